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

if failures:
    print("docker checks failed:\n- " + "\n- ".join(failures))
    sys.exit(1)
print("docker: Dockerfile and docker-compose.yml pass the structural checks")
