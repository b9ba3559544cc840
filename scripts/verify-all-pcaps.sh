#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Developer tool: runs build/ftpalg-replay over every capture in pcaps/ (with
# the flags of its .args sidecar) and, when the independent checker exists
# ($VERIFY_REPLAY, default /work/shared/tools/verify_replay.py), checks each
# output with it. Tests do not depend on this script or on ../shared.
#
#   scripts/verify-all-pcaps.sh [CAPTURE...]
#
# Exit status: 0 when every replay succeeded and every check passed.
set -u
cd "$(dirname "$0")/.." || exit 2
REPLAY=${REPLAY:-build/ftpalg-replay}
VERIFY=${VERIFY_REPLAY:-/work/shared/tools/verify_replay.py}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$REPLAY" ] || { echo "verify-all-pcaps: $REPLAY not built (make)" >&2; exit 2; }
have_verify=0
[ -f "$VERIFY" ] && have_verify=1
[ $have_verify = 1 ] || echo "verify-all-pcaps: $VERIFY not found: replay only" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

if [ $# -eq 0 ]; then
  set -- $(find pcaps -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) | sort)
fi

fail=0 total=0
for cap in "$@"; do
  total=$((total + 1))
  stem=${cap%.gz}; stem=${stem%.pcapng}; stem=${stem%.pcap}
  args=""
  [ -f "$stem.args" ] && args=$(sed 's/#.*//' "$stem.args")
  name=$(basename "$stem")
  out="$work/$name.pcap" exp="$work/$name.jsonl"
  # shellcheck disable=SC2086
  if ! "$REPLAY" $args --expectations "$exp" "$cap" "$out" 2>"$work/$name.err"; then
    printf '%-60s REPLAY FAILED: %s\n' "$cap" "$(head -1 "$work/$name.err")"
    fail=$((fail + 1))
    continue
  fi
  rewrites=$(sed -n 's/^rewrites: \([0-9]*\).*/\1/p' "$work/$name.err")
  if [ $have_verify = 0 ]; then
    printf '%-60s replay ok (%s rewrites)\n' "$cap" "$rewrites"
    continue
  fi
  # The checker knows only port 21; captures with other control ports are
  # replayed but not judged.
  if printf '%s\n' "$args" | grep -Eq -- '--control-port[ =]' &&
     ! printf '%s\n' "$args" | grep -Eq -- '--control-port[ =]21( |$)' ||
     [ "$(printf '%s\n' "$args" | grep -Eo -- '--control-port' | wc -l)" -gt 1 ]; then
    printf '%-60s replay ok (%s rewrites); not verified: control port other than 21\n' "$cap" "$rewrites"
    continue
  fi
  pub4=$(printf '%s\n' "$args" | grep -Eo -- '--public-ip[ =][0-9.]+' | head -1 | sed 's/--public-ip[ =]//')
  pub6=$(printf '%s\n' "$args" | grep -Eo -- '--public-ip[ =][0-9A-Fa-f:]*:[0-9A-Fa-f:.]*' | head -1 | sed 's/--public-ip[ =]//')
  inside=$(printf '%s\n' "$args" | grep -Eo -- '--inside[ =][^ ]+' | sed 's/--inside[ =]/--inside /' | tr '\n' ' ')
  vargs=""
  [ -n "$pub4" ] && vargs="$vargs --public4 $pub4"
  [ -n "$pub6" ] && vargs="$vargs --public6 $pub6"
  # shellcheck disable=SC2086
  result=$("$PYTHON" "$VERIFY" "$cap" "$out" "$exp" $vargs $inside 2>&1 | tail -1)
  case $result in
    ok*) printf '%-60s %s\n' "$cap" "$result" ;;
    *) printf '%-60s %s\n' "$cap" "$result"; fail=$((fail + 1)) ;;
  esac
done
echo "verify-all-pcaps: $total captures, $fail failed"
[ $fail -eq 0 ]
