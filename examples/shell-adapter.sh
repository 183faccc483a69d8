#!/bin/sh
# shell-adapter.sh -- a camsim adapter as one shell script (docs/adapters.md):
# camsim runs it for every operator action with the action's parameters as
# JSON on standard input, and CAMSIM_ACTION, CAMSIM_CID and CAMSIM_PARAMS
# (the same JSON without the pictures) in the environment.  Exit status 0
# means done; what it prints on standard output is the action's result
# (for command_state and records, JSON camsim reads).
#
# This one drives camsim's own mock server through its admin API with curl,
# as a stand-in for your server's command-line tool or API.  Point it at the
# mock with CAMSIM_MOCK=http://127.0.0.1:8080 (and CAMSIM_MOCK_TOKEN when
# the mock has a token).  Copy it and replace each branch with what your
# server needs.
set -eu
: "${CAMSIM_MOCK:?set CAMSIM_MOCK to the mock's address, e.g. http://127.0.0.1:8080}"

auth=""
[ -n "${CAMSIM_MOCK_TOKEN:-}" ] && auth="Authorization: Bearer $CAMSIM_MOCK_TOKEN"

call() { # METHOD PATH [curl args...]
	method=$1 path=$2
	shift 2
	curl -fsS --max-time 20 -X "$method" ${auth:+-H "$auth"} "$@" \
		"$CAMSIM_MOCK$path"
}

case "$CAMSIM_ACTION" in
command_state)
	# the id the mock gave the command, from the operator step's output
	# ({"id": 7, ...}), passed by the adapter file as the first argument
	call GET "/admin/commands/$1"
	;;
records)
	call GET "/admin/records?cid=$CAMSIM_CID&limit=10000"
	;;
*)
	# every operator action: the parameters as they are, photos inline
	call POST "/admin/devices/$CAMSIM_CID/actions" \
		-H 'Content-Type: application/json' --data-binary @-
	;;
esac
