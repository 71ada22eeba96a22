use super::{Claim, Stance, Standing};

/// Derives a relation's standing from its claims.
///
/// `speaks_for_a_party` says whether a claimant is one of the relation's two ends or speaks for
/// one (an officer of it); the caller knows the graph, this function knows the rule:
/// asserted and denied is `DISPUTED`, only denied is `DENIED`, asserted by a party is
/// `CONFIRMED`, asserted only by others (or by a source in its own voice) is `REPORTED`.
///
/// ```
/// use tiegraph::model::{derive_standing, Claim, Stance, Standing, Timestamp};
/// let claim = |stance, claimant: &str| Claim {
///     id: "c".into(), relation: "r".into(), source: "s".into(), stance,
///     claimant: Some(claimant.into()), quote: "…".into(), recorded_at: Timestamp(0),
/// };
/// let party = |id: &str| id == "salesforce";
/// assert_eq!(derive_standing(&[claim(Stance::Asserts, "salesforce")], party), Standing::Confirmed);
/// assert_eq!(derive_standing(&[claim(Stance::Asserts, "raices")], party), Standing::Reported);
/// assert_eq!(
///     derive_standing(&[claim(Stance::Asserts, "raices"), claim(Stance::Denies, "salesforce")], party),
///     Standing::Disputed
/// );
/// assert_eq!(derive_standing(&[claim(Stance::Denies, "salesforce")], party), Standing::Denied);
/// ```
pub fn derive_standing<'a>(
    claims: impl IntoIterator<Item = &'a Claim>,
    speaks_for_a_party: impl Fn(&str) -> bool,
) -> Standing {
    let mut asserted = false;
    let mut denied = false;
    let mut asserted_by_party = false;
    for claim in claims {
        match claim.stance {
            Stance::Denies => denied = true,
            Stance::Asserts => {
                asserted = true;
                if claim.claimant.as_deref().is_some_and(&speaks_for_a_party) {
                    asserted_by_party = true;
                }
            }
        }
    }
    match (asserted, denied) {
        (true, true) => Standing::Disputed,
        (false, true) => Standing::Denied,
        _ if asserted_by_party => Standing::Confirmed,
        _ => Standing::Reported,
    }
}
