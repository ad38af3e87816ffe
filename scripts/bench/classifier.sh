#!/bin/sh
# Classifier lookups/second for 1k/10k/100k rules across 1/10/100
# subtables.  Usage: scripts/bench/classifier.sh [milliseconds per figure]
set -e
cd "$(dirname "$0")/../.."
exec cargo bench -q -p ferrovs-classifier --bench lookup -- "${1:-300}"
