"""Structural checks of Dockerfile and docker-compose.yml, for a machine with no Docker engine."""
import sys
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

repo = Path(sys.argv[1])
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


parser = DockerfileParser(path=str(repo / "Dockerfile"))
instructions = parser.structure
froms = [i for i in instructions if i["instruction"] == "FROM"]
check(len(froms) >= 2, "the Dockerfile is not multi-stage")
final_stage_start = instructions.index(froms[-1])
final = instructions[final_stage_start:]
users = [i["value"] for i in final if i["instruction"] == "USER"]
check(users and users[-1] not in ("root", "0"), "the runtime stage does not switch to a non-root user")
check(any(i["instruction"] == "HEALTHCHECK" for i in final), "the runtime stage has no HEALTHCHECK")
check(any("cargo build --release" in i["value"] for i in instructions), "the build stage does not build a release binary")
check(any(i["instruction"] == "COPY" and "--from=" in i["value"] for i in final), "the runtime stage does not copy from the build stage")
env = " ".join(i["value"] for i in final if i["instruction"] == "ENV")
check("0.0.0.0:8080" in env, "the image does not listen on 0.0.0.0:8080")
copies = " ".join(i["value"] for i in instructions if i["instruction"] == "COPY")
for needed in ["Cargo.toml", "Cargo.lock", "src", "seed", "explorer", "tests"]:
    check((repo / needed).exists(), f"the build needs {needed}, which is missing")
    check(needed in copies, f"the Dockerfile does not copy {needed}, which the build needs")

compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
service = compose["services"]["tiegraph"]
check(service["build"]["dockerfile"] == "Dockerfile", "compose does not build from the repo's Dockerfile")
check(service["environment"]["TIEGRAPH_LISTEN"] == "0.0.0.0:8080", "compose does not listen on 0.0.0.0:8080")
check("TIEGRAPH_TOKEN" in service["environment"], "compose gives the server no write token (it listens beyond loopback)")
volumes = [v.split(":")[0] for v in service["volumes"]]
check(any(v in compose.get("volumes", {}) for v in volumes), "compose mounts no named volume")
check("healthcheck" in service and service["healthcheck"]["test"][1:] == ["tiegraph", "health"], "compose has no health check")
check(not service.get("profiles"), "the default `tiegraph` service has a profile: a plain `docker compose up` would not start it")

# The `replicated` profile: PostgreSQL for the change log, a writer, two replicas, HAProxy.
services = compose["services"]
named_volumes = compose.get("volumes") or {}


def depends_on(svc):
    """{service: condition} whichever form depends_on takes."""
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def volume_at(svc, target):
    """The named volume mounted at `target`, or None."""
    for volume in svc.get("volumes") or []:
        if isinstance(volume, dict):
            source, mounted = volume.get("source"), volume.get("target")
        else:
            source, mounted = (volume.split(":") + [""])[:2]
        if mounted == target:
            return source if source in named_volumes else None
    return None


replicated = ["postgres", "writer", "replica1", "replica2", "proxy"]
for name in replicated:
    check(name in services, f"compose has no `{name}` service (profile replicated)")
    check(name not in services or "replicated" in (services[name].get("profiles") or []),
          f"the `{name}` service is not in the `replicated` profile")
if all(name in services for name in replicated):
    postgres = services["postgres"]
    check(str(postgres.get("image", "")).startswith("postgres:16"), "the log's PostgreSQL is not postgres:16")
    check("pg_isready" in " ".join(map(str, (postgres.get("healthcheck") or {}).get("test", []))),
          "the log's PostgreSQL has no pg_isready health check")
    check(volume_at(postgres, "/var/lib/postgresql/data") is not None,
          "the log's PostgreSQL keeps its data on no named volume")

    nodes = {name: services[name] for name in ("writer", "replica1", "replica2")}
    log_urls = set()
    node_volumes = {}
    for name, node in nodes.items():
        env = node.get("environment") or {}
        check(isinstance(env, dict), f"`{name}`'s environment is not a mapping")
        role = "writer" if name == "writer" else "replica"
        check(env.get("TIEGRAPH_ROLE") == role, f"`{name}` does not run as TIEGRAPH_ROLE={role}")
        url = str(env.get("TIEGRAPH_LOG_URL", ""))
        host = url.partition("://")[2].partition("/")[0].rpartition("@")[2].partition(":")[0]
        check(url.startswith("postgres://") and host == "postgres",
              f"`{name}`'s TIEGRAPH_LOG_URL does not name the `postgres` service: {url!r}")
        log_urls.add(url)
        check(env.get("TIEGRAPH_LISTEN") == "0.0.0.0:8080", f"`{name}` does not listen on 0.0.0.0:8080")
        check("${TIEGRAPH_TOKEN:?" in str(env.get("TIEGRAPH_TOKEN", "")),
              f"`{name}` does not take its write token from ${{TIEGRAPH_TOKEN:?...}}")
        check(node.get("build") == service["build"] and node.get("image") == service.get("image"),
              f"`{name}` does not reuse the `tiegraph` service's image build")
        check((node.get("healthcheck") or {}).get("test", [None])[1:] == ["tiegraph", "health"],
              f"`{name}` has no health check")
        volume = volume_at(node, "/data")
        check(volume is not None, f"`{name}` keeps its store on no named volume at /data")
        node_volumes[name] = volume
    check(len(log_urls) == 1, f"the writer and the replicas do not share one log: {sorted(log_urls)}")
    stores = [v for v in node_volumes.values() if v]
    check(len(set(stores)) == len(stores) and volume_at(service, "/data") not in stores,
          f"the nodes do not each have a volume of their own: {node_volumes}")
    check(nodes["writer"]["environment"].get("TIEGRAPH_ADVERTISE_URL") == "http://writer:8080",
          "the writer does not advertise http://writer:8080 (named in replicas' READ_ONLY refusals)")
    check(depends_on(nodes["writer"]).get("postgres") == "service_healthy",
          "the writer does not wait for PostgreSQL to be healthy")
    for name in ("replica1", "replica2"):
        check("writer" in depends_on(nodes[name]), f"`{name}` does not depend on the writer")
    for name, node in nodes.items():
        check(not node.get("ports"), f"`{name}` publishes a port: clients go through the proxy")

    proxy = services["proxy"]
    check(str(proxy.get("image", "")).startswith("haproxy:2.8"), "the proxy is not haproxy:2.8")
    mounts = [v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}" for v in proxy.get("volumes") or []]
    check(any(m.split(":")[0] in ("./deploy/haproxy.cfg", "deploy/haproxy.cfg")
              and m.split(":")[1] == "/usr/local/etc/haproxy/haproxy.cfg" for m in mounts),
          "the proxy does not mount deploy/haproxy.cfg as /usr/local/etc/haproxy/haproxy.cfg")
    ports = [str(p) for p in proxy.get("ports") or []]
    check(any(p.strip('"').endswith("8080:8080") for p in ports), "the proxy does not publish 8080")
    check({"writer", "replica1", "replica2"} <= set(depends_on(proxy)),
          "the proxy does not depend on the writer and both replicas")

    cfg_path = repo / "deploy" / "haproxy.cfg"
    check(cfg_path.is_file(), "deploy/haproxy.cfg is missing")
    if cfg_path.is_file():
        cfg = cfg_path.read_text()
        lines = [line.split("#", 1)[0].strip() for line in cfg.splitlines()]
        lines = [line for line in lines if line]

        def section(name):
            """The lines of `backend NAME` (or `frontend NAME`)."""
            body, inside = [], False
            for line in lines:
                words = line.split()
                if words[0] in ("global", "defaults", "frontend", "backend", "listen", "resolvers", "peers"):
                    inside = words[1:2] == [name]
                    continue
                if inside:
                    body.append(line)
            return body

        proxy_env = proxy.get("environment") or {}
        for var, svc in (("WRITER_ADDR", "writer"), ("REPLICA1_ADDR", "replica1"), ("REPLICA2_ADDR", "replica2")):
            check(f'"${{{var}}}"' in cfg, f"haproxy.cfg does not take a server's address from {var}")
            default = any(line.split()[:2] == ["presetenv", var] and line.split()[2].strip('"') == f"{svc}:8080"
                          for line in lines)
            check(default or proxy_env.get(var) == f"{svc}:8080",
                  f"{var} is neither defaulted in haproxy.cfg nor set by compose to {svc}:8080")
        check("option http-buffer-request" in lines, "haproxy.cfg does not buffer request bodies")
        check(any("req.body" in line and "mutation" in line for line in lines),
              "haproxy.cfg has no ACL on the request body matching `mutation`")
        replicas_backend = section("replicas")
        writer_backend = section("writer")
        check(replicas_backend, "haproxy.cfg has no `replicas` backend")
        check(writer_backend, "haproxy.cfg has no `writer` backend")
        check("option httpchk GET /ready" in replicas_backend, "the replicas are not health-checked on /ready")
        check("option httpchk GET /health" in writer_backend, "the writer is not health-checked on /health")
        check(any(line.startswith("server") and "${WRITER_ADDR}" in line and "backup" in line.split()
                  for line in replicas_backend),
              "the writer is not the replicas' backup server")
        check(any(line.startswith("timeout tunnel") for line in lines), "haproxy.cfg sets no `timeout tunnel` for websockets")

if failures:
    print("docker checks failed:\n- " + "\n- ".join(failures))
    sys.exit(1)
print("docker: Dockerfile and docker-compose.yml (default and `replicated` profiles) and deploy/haproxy.cfg pass the structural checks")
