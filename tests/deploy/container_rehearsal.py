#!/usr/bin/python3
"""Rehearses deploy/Containerfile's runtime stage where no container engine runs (docs/OPERATIONS.md).

A Debian bookworm root made by debootstrap stands for `FROM debian:bookworm`. The stage's instructions are
then carried out as an engine would: RUN in the root by chroot (with the network, for apt), COPY --from=build
from deploy/build.sh's build, ENV, USER and ENTRYPOINT to start habilisd in a network namespace of its own
(so that its 0.0.0.0:50051 is the container's), and the HEALTHCHECK command, as the image's user, must pass.
The first operator key the ENTRYPOINT asks for must then be in the volume, readable by that user only.

    tests/deploy/container_rehearsal.py CONTAINERFILE BUILD_DIR WORK_DIR

Needs root (debootstrap, chroot, namespaces): exits 77, which ctest counts as skipped, without it. The
bookworm root is kept in WORK_DIR/bookworm-minbase.tar and reused by the next run.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import time

MIRROR = "http://deb.debian.org/debian"


def runtime_stage(containerfile):
    """The instructions after the last FROM, each as (keyword, argument text), continuation lines joined."""
    with open(containerfile) as f:
        text = f.read().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        if keyword == "FROM":
            instructions = []
            continue
        instructions.append((keyword, argument.strip()))
    return instructions


def base_root(work):
    """A fresh copy of a minimal bookworm root: debootstrap once, then its tarball."""
    tarball = os.path.join(work, "bookworm-minbase.tar")
    root = os.path.join(work, "root")
    if os.path.exists(root):
        shutil.rmtree(root)
    if not os.path.exists(tarball):
        staging = os.path.join(work, "staging")
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", staging, MIRROR], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["tar", "-C", staging, "-cf", tarball + ".tmp", "."], check=True)
        os.rename(tarball + ".tmp", tarball)
        shutil.rmtree(staging)
    os.makedirs(root)
    subprocess.run(["tar", "-C", root, "-xf", tarball], check=True)
    shutil.copy("/etc/resolv.conf", os.path.join(root, "etc/resolv.conf"))
    return root


def run_in_root(root, command, log):
    """Runs the shell `command` in `root` as root, with /proc, /dev and the host's network (for apt)."""
    script = (f"mount --make-rprivate / && mount -t proc proc {root}/proc && mount --bind /dev {root}/dev && "
              f"exec chroot {root} env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin /bin/sh -c "
              + shlex.quote(command))
    with open(log, "a") as out:
        return subprocess.run(["unshare", "--mount", "--fork", "sh", "-c", script], stdout=out,
                              stderr=subprocess.STDOUT).returncode


def main():
    if os.geteuid() != 0:
        print("skipped: the rehearsal needs root (debootstrap, chroot, namespaces)")
        return 77
    containerfile, build_dir, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    root = base_root(work)
    env, user, entrypoint, healthcheck = {}, None, None, None
    for keyword, argument in runtime_stage(containerfile):
        if keyword == "RUN":
            log = os.path.join(work, "run.log")
            if run_in_root(root, argument, log) != 0:
                with open(log) as f:
                    print(f.read()[-4000:])
                print(f"RUN failed: {argument}")
                return 1
        elif keyword == "COPY":
            words = shlex.split(argument)
            assert words[0] == "--from=build", f"only COPY --from=build is rehearsed: {argument}"
            *sources, destination = words[1:]
            for source in sources:
                local = os.path.join(build_dir, os.path.relpath(source, "/src/build"))
                shutil.copy2(local, os.path.join(root, destination.lstrip("/")))
        elif keyword == "ENV":
            env.update(word.split("=", 1) for word in shlex.split(argument))
        elif keyword == "USER":
            user = argument
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(argument)
        elif keyword == "HEALTHCHECK":
            healthcheck = json.loads(argument[argument.index("CMD") + 3:])
        elif keyword not in ("VOLUME", "EXPOSE", "WORKDIR", "LABEL"):
            print(f"the rehearsal does not know {keyword}")
            return 1
    if entrypoint is None or healthcheck is None or user is None:
        print("the runtime stage needs an ENTRYPOINT, a HEALTHCHECK and a USER")
        return 1

    # habilisd and its health checks share one network namespace, as in a container.
    check = shlex.join(["chroot", "--userspec", f"{user}:{user}", root, "env", "-i"] + healthcheck)
    serve = shlex.join(["chroot", "--userspec", f"{user}:{user}", root, "env", "-i"]
                       + [f"{k}={v}" for k, v in env.items()] + entrypoint)
    script = f"""
      mount --make-rprivate / && mount -t proc proc {root}/proc && mount --bind /dev {root}/dev
      ip link set lo up
      {serve} > {work}/habilisd.out 2>&1 &
      server=$!
      healthy=1
      for i in $(seq 150); do
        if {check} > {work}/health.out 2>&1; then healthy=0; break; fi
        kill -0 $server 2>/dev/null || break
        sleep 0.2
      done
      kill -TERM $server 2>/dev/null
      wait $server
      stopped=$?
      [ $healthy -eq 0 ] || {{ echo "the HEALTHCHECK command never passed:"; cat {work}/health.out; exit 1; }}
      [ $stopped -eq 0 ] || {{ echo "habilisd exited with $stopped on SIGTERM"; exit 1; }}
    """
    result = subprocess.run(["unshare", "--mount", "--net", "--fork", "sh", "-c", script])
    with open(os.path.join(work, "habilisd.out")) as f:
        output = f.read()
    if result.returncode != 0:
        print(output)
        return 1
    key = os.path.join(root, "var/lib/habilis/first-operator-key")
    if not os.path.exists(key):
        print("the ENTRYPOINT's first operator key is not in the volume")
        return 1
    mode = os.stat(key).st_mode & 0o777
    owner = subprocess.run(["chroot", root, "stat", "-c", "%U", "/var/lib/habilis/first-operator-key"],
                           capture_output=True, text=True).stdout.strip()
    if mode != 0o600 or owner != user:
        print(f"the first operator key is mode {oct(mode)}, owned by {owner}: expected 0600, {user}")
        return 1
    print("rehearsed: the runtime stage installs, starts as", user, "and passes its HEALTHCHECK")
    shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
