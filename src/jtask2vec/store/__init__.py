"""The artifact store: content-addressed artifacts, manifests, owners and locks, maintenance.

Foundation layer: imports only errors/config, never the computation or the jobs."""
