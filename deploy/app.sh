#!/bin/sh
# An app replica (deploy/docker-compose.yml): join the Ray cluster as a node with no CPUs for runs (a Ray driver
# talks to the cluster through a raylet on its own machine; the runs go to the workers), then serve the app.
set -e
ray start --address="$RAY_ADDRESS" --num-cpus=0 --disable-usage-stats
exec python -m streamlit run app.py --server.port=8501 --server.address=0.0.0.0 --server.headless=true \
    --server.fileWatcherType=none --browser.gatherUsageStats=false
