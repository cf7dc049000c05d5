#!/usr/bin/env bash
# Runs every scenario in order; prints a summary. Usage: ./run-all.sh [> log]
cd "$(dirname "$0")"
declare -A RC
for s in [0-9][0-9]-*.sh; do echo "######## $s  $(date -u +%H:%M:%S)"; timeout 420 bash "$s"; RC[$s]=$?; done
echo "######## SUMMARY"; for s in [0-9][0-9]-*.sh; do echo "$s rc=${RC[$s]}"; done
