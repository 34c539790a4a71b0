#!/bin/sh
# federation-demo.sh: a national hub and two halls on this machine, each with its own SQLite
# database and key file under DIR, until Ctrl-C (docs/federation.md):
#   hub      role = hub, the OpenID Connect provider of the national account
#   Qinghe   a hall joined to the hub (the demo city)
#   Lanshan  a second hall joined to the hub, with its own demo catalog (data/regions/lanshan)
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
# Three host names, so that a browser keeps each one's cookies apart (cookies ignore ports): the
# hub at localhost, Qinghe at 127.0.0.1, Lanshan at 127.0.0.2 (all on the loopback interface).
HUB=http://localhost:$HUB_PORT
mkdir -p "$DIR"
umask 077

# The halls play a year of demo history; the hub keeps no applications of its own.
for n in hub qinghe lanshan; do
	if [ ! -e "$DIR/$n.db" ]; then
		history=365
		[ "$n" = hub ] && history=0
		region=""
		[ "$n" = lanshan ] && region="--region lanshan"
		# Each log is named by its hall's address (the origin is fixed when the log is made), so
		# that the halls' witnesses tell the logs apart.
		case $n in hub) url=$HUB ;; qinghe) url=http://127.0.0.1:$QINGHE_PORT ;; *) url=http://127.0.0.2:$LANSHAN_PORT ;; esac
		# shellcheck disable=SC2086
		"$BIN" init --demo --history "$history" $region --db "$DIR/$n.db" --key-file "$DIR/$n.key" --public-url "$url" >/dev/null
	fi
done

# Each hall is registered at the hub once; its secret is kept beside its database (mode 0600).
register() { # name host:port
	if [ ! -s "$DIR/$1.secret" ]; then
		"$BIN" federation client add "$1" --name "$1" \
			--redirect "http://$2/login/national/callback" --logout "http://$2/" \
			--db "$DIR/hub.db" --key-file "$DIR/hub.key" | sed -n 's/^client_secret: //p' >"$DIR/$1.secret"
	fi
}
QINGHE=127.0.0.1:$QINGHE_PORT
LANSHAN=127.0.0.2:$LANSHAN_PORT
register qinghe "$QINGHE"
register lanshan "$LANSHAN"

pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait
}
trap stop INT TERM

"$BIN" serve --role hub --db "$DIR/hub.db" --key-file "$DIR/hub.key" --listen "127.0.0.1:$HUB_PORT" \
	--public-url "$HUB" --upload-dir "$DIR/hub-uploads" --fed-directory-period 60 >/dev/null 2>"$DIR/hub.log" &
pids="$pids $!"
hall() { # name host:port
	GOVHALL_FED_CLIENT_SECRET=$(cat "$DIR/$1.secret") "$BIN" serve --db "$DIR/$1.db" --key-file "$DIR/$1.key" \
		--listen "$2" --public-url "http://$2" --fed-hub-url "$HUB" --fed-client-id "$1" --fed-directory-period 60 \
		--upload-dir "$DIR/$1-uploads" >"$DIR/$1.out" 2>"$DIR/$1.log" &
	pids="$pids $!"
}
hall qinghe "$QINGHE"
hall lanshan "$LANSHAN"

# Each hall joins the hub's directory once (its catalog and statistics then reach the national
# pages); the hub's administrator's approval is given here for the demo.
join() { # name region host:port
	[ -e "$DIR/$1.joined" ] && return 0
	n=0
	# The hall first (it makes its message key at start; the registration names that key).
	until grep -q "listening on" "$DIR/$1.out" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 150 ] || { echo "federation-demo: $1 did not start (see $DIR/$1.log)" >&2; return 1; }
		sleep 0.2
	done
	n=0
	until "$BIN" federation join --name "$2市" --region "$2" --db "$DIR/$1.db" --key-file "$DIR/$1.key" \
		--fed-hub-url "$HUB" --fed-client-id "$1" --public-url "http://$3" >/dev/null 2>&1; do
		n=$((n + 1))
		[ "$n" -lt 30 ] || { echo "federation-demo: $1 could not join the hub (see $DIR/hub.log)" >&2; return 1; }
		sleep 1
	done
	"$BIN" federation hall approve "$1" --db "$DIR/hub.db" --key-file "$DIR/hub.key" >/dev/null && touch "$DIR/$1.joined"
}
join qinghe 清河 "$QINGHE"
join lanshan 兰山 "$LANSHAN"

echo "national hub  $HUB   (OpenID Connect: $HUB/.well-known/openid-configuration)"
echo "Qinghe hall   http://$QINGHE   (log in: /login, then \"log in with the national account\")"
echo "Lanshan hall  http://$LANSHAN"
echo "national catalog and supervision: $HUB/national/search, $HUB/national/statistics (refreshed every minute)"
echo "logs in $DIR/*.log; Ctrl-C stops all three"
wait
