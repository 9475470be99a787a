#!/usr/bin/env bash
# Installs the system packages Engram builds against, when they are missing. Idempotent.
# Usage: scripts/setup.sh            (sourced by demo.sh and test.sh)
set -euo pipefail

packages=(liblmdb-dev pkg-config)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

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
