#!/bin/sh
# federation-demo.sh: a national hub and two halls on this machine, each with its own SQLite
# database and key file under DIR, until Ctrl-C (docs/federation.md):
#   hub      role = hub, the OpenID Connect provider of the national account
#   Qinghe   a hall joined to the hub (the demo city)
#   Lanshan  a second hall joined to the hub (for now with the same demo catalog)
# The demo citizen (13800000001, password Qinghe-demo-2026) exists in all three, so "log in
# with the national account" at either hall links to that hall's account of the same person.
# Environment: BIN (default build/release/govhall), DIR (default build/federation-demo),
# HUB_PORT, QINGHE_PORT, LANSHAN_PORT (default 8090, 8091, 8092).
set -eu
BIN=${BIN:-build/release/govhall}
DIR=${DIR:-build/federation-demo}
HUB_PORT=${HUB_PORT:-8090}
QINGHE_PORT=${QINGHE_PORT:-8091}
LANSHAN_PORT=${LANSHAN_PORT:-8092}
HUB=http://127.0.0.1:$HUB_PORT
mkdir -p "$DIR"
umask 077

for n in hub qinghe lanshan; do
	if [ ! -e "$DIR/$n.db" ]; then
		"$BIN" init --demo --db "$DIR/$n.db" --key-file "$DIR/$n.key" >/dev/null
	fi
done

# Each hall is registered at the hub once; its secret is kept beside its database (mode 0600).
register() { # name port
	if [ ! -s "$DIR/$1.secret" ]; then
		"$BIN" federation client add "$1" --name "$1" \
			--redirect "http://127.0.0.1:$2/login/national/callback" --logout "http://127.0.0.1:$2/" \
			--db "$DIR/hub.db" --key-file "$DIR/hub.key" | sed -n 's/^client_secret: //p' >"$DIR/$1.secret"
	fi
}
register qinghe "$QINGHE_PORT"
register lanshan "$LANSHAN_PORT"

pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait
}
trap stop INT TERM

"$BIN" serve --role hub --db "$DIR/hub.db" --key-file "$DIR/hub.key" --listen "127.0.0.1:$HUB_PORT" \
	--public-url "$HUB" --upload-dir "$DIR/hub-uploads" >/dev/null 2>"$DIR/hub.log" &
pids="$pids $!"
hall() { # name port
	GOVHALL_FED_CLIENT_SECRET=$(cat "$DIR/$1.secret") "$BIN" serve --db "$DIR/$1.db" --key-file "$DIR/$1.key" \
		--listen "127.0.0.1:$2" --public-url "http://127.0.0.1:$2" --fed-hub-url "$HUB" --fed-client-id "$1" \
		--upload-dir "$DIR/$1-uploads" >/dev/null 2>"$DIR/$1.log" &
	pids="$pids $!"
}
hall qinghe "$QINGHE_PORT"
hall lanshan "$LANSHAN_PORT"

echo "national hub  $HUB   (OpenID Connect: $HUB/.well-known/openid-configuration)"
echo "Qinghe hall   http://127.0.0.1:$QINGHE_PORT   (log in: /login, then \"log in with the national account\")"
echo "Lanshan hall  http://127.0.0.1:$LANSHAN_PORT"
echo "logs in $DIR/*.log; Ctrl-C stops all three"
wait
