#!/bin/sh
# Starts Dovecot (daemonised) and Postfix (in the foreground, as PID 1) from the configuration in /srv/mail, which
# `npm run stack:up` writes (libs/stack/src/mail-server.ts, writeDockerMailConfig) before `docker compose up`.
set -eu
M=/srv/mail
if [ ! -f "$M/dovecot/dovecot.conf" ] || [ ! -f "$M/postfix/etc/main.cf" ]; then
  echo "no mail server configuration in .stack/mail/docker: start it with npm run stack:up" >&2
  exit 1
fi
mkdir -p "$M/dovecot/run" "$M/dovecot/state" "$M/mailboxes" "$M/postfix/queue" "$M/postfix/data"
chown 65534:65534 "$M/mailboxes"
chown postfix:postfix "$M/postfix/data"
dovecot -c "$M/dovecot/dovecot.conf"
postfix -c "$M/postfix/etc" check
# as PID 1, `postfix start-fg` runs the master in the foreground (master -i); maillog_file = /dev/stdout
exec postfix -c "$M/postfix/etc" start-fg
