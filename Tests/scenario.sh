#!/bin/sh
# ARCHITECTURE.md's scenario (Mage's documented example), through the tool as a user would
# run it: three environments (development, production, and one whose uuid the table calls
# "random") with their own data directories and keys, sharing one log. Writes the six rows,
# then prints both tables as read back with `mage-vault get`. Usage: scenario.sh PATH-TO-mage-vault
set -eu
bin=${1:?usage: scenario.sh PATH-TO-mage-vault}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
log="$work/shared/vault.log"

vault() { env_name=$1; shift; "$bin" "$@" --data-dir "$work/$env_name" --vault "$log"; }
put() { printf '%s' "$3" | vault "$1" set "$2"; }

for env_name in development production random; do vault "$env_name" init >/dev/null; done
put development secret1 'sooper dooper secret string'
put development secret2 'xXxSecreTxXx'
put development secret3 'dev only secret'
put production  secret1 'real production secret'
put production  secret2 'm4g3r0x!'
put random      secret1 'random secret'

echo "One log: $log, shared by three environments."
echo
printf '| %-7s | %-46s | %-27s |\n' name uuid value
printf '|---------|------------------------------------------------|-----------------------------|\n'
for env_name in development production random; do
    uuid=$(cat "$work/$env_name/secrets/uuid")
    for name in $(vault "$env_name" list --json | tr ',' '\n' | sed -n 's/.*"name":"\([^"]*\)".*/\1/p'); do
        printf '| %-7s | %-46s | %-27s |\n' "$name" "$uuid ($env_name)" "$(vault "$env_name" get "$name")"
    done
done
echo
printf '| %-28s | %-27s | %-22s |\n' call development production
printf '|------------------------------|-----------------------------|------------------------|\n'
for name in secret1 secret2 secret3; do
    dev=$(vault development get "$name" 2>/dev/null) || dev=None
    prod=$(vault production get "$name" 2>/dev/null) || prod=None
    printf '| %-28s | %-27s | %-22s |\n' "get_secret_value('$name')" "$dev" "$prod"
done
