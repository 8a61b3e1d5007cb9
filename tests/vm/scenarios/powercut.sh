#!/bin/bash
# Issue 5, crash safety. One boot per trial; /work/trial.env says what to do:
#   TRIAL, KIND (first|rotate|cleanup|revoke), CURRENT (the bootstrap passphrase), NEXT (rotation target),
#   CANDIDATES (passphrases of which at least one must open after the previous trial's power cut).
# The boot first checks the previous trial's outcome, then sets up this trial and cuts the power at a
# random moment inside the operation.
set -u
SCENARIO=powercut
. /work/guest-lib.sh
. /work/cvm-guest.sh
# shellcheck source=/dev/null
. /work/trial.env
guest_setup 60 > /dev/null
DEV=$(readlink -f "$(guest_ebs_dev vol00000c01)")
FAST=(--batch-mode --pbkdf argon2id --pbkdf-memory 32768 --pbkdf-force-iterations 4)

# Outcome of the previous trial: which candidate passphrases open the volume now?
if [ "$KIND" != first ]; then
  opening=""
  for p in $CANDIDATES; do
    opens "$DEV" "$p" && opening="$opening $p"
  done
  measure "trial $((TRIAL - 1)) outcome: opens with:${opening:- nothing}"
  check "trial $((TRIAL - 1)): the volume opens with one of: $CANDIDATES" [ -n "$opening" ]
  if [ -n "$REQUIRED" ]; then
    check "trial $((TRIAL - 1)): the bootstrap passphrase still opens it" opens "$DEV" "$REQUIRED"
  fi
  CURRENT=$(awk '{ print $NF }' <<< "$opening")
  echo "$CURRENT" > /work/current-pass
fi
sync

[ "$KIND" = verify ] && finish && exit $?

if [ "$KIND" = cleanup ]; then
  # Stale keyslots for the cleanup to remove while the power goes.
  printf '%s' "$CURRENT" > /tmp/k-cur
  for s in stale-1 stale-2 stale-3; do
    printf '%s' "$s" > /tmp/k-new
    cryptsetup luksAddKey "${FAST[@]}" --key-file /tmp/k-cur "$DEV" /tmp/k-new
  done
  rm -f /tmp/k-cur /tmp/k-new
fi

cvm_start || exit 1
BOOT="{\"user_id\":\"cut\",\"volumes\":{\"p1\":{\"volume_id\":\"vol-00000c01\",\"passphrase\":\"$CURRENT\"}}}"
api POST /api/v1/bootstrap "$BOOT"
if [ "$KIND" = cleanup ]; then
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r % 900 / 100 }')
  measure "trial $TRIAL: cutting power ${delay}s into the bootstrap's keyslot cleanup"
  sync
  sleep "$delay"
  guest_power_cut
fi
wait_op /api/v1/bootstrap
check "trial $TRIAL: bootstrap before the rotation completes ($BODY)" [ "$(jget status)" = completed ]
# revoke: the rotation also removes every keyslot the old passphrase opens (issue 15).
REVOKE=false
[ "$KIND" = revoke ] && REVOKE=true
api POST /api/v1/passphrase "{\"volumes\":{\"p1\":{\"old_passphrase\":\"$CURRENT\",\"new_passphrase\":\"$NEXT\",\"revoke_old\":$REVOKE}}}"
if [ "$KIND" = revoke ] && [ $((TRIAL % 2)) = 0 ]; then
  # Aim at the revocation itself: a cut at a uniform moment of the whole rotation lands in the add
  # (the longer part) nearly every time. Wait, bounded, until the daemon logs that the new key slot is
  # on disk, then cut at a random moment of the revocation that follows (its own header check, the
  # test of the old passphrase, the kill and the second write-back: about 12 s under TCG, measured
  # between the two log lines in the client chain).
  for _ in $(seq 1 1800); do
    grep -q 'new passphrase added' "/work/daemon.$DAEMON_N.log" && break
    sleep 0.1
  done
  # Trial 4 takes the first half (check and test), trial 6 the second (kill and write-back, or done).
  half=0
  [ "$TRIAL" -ge 6 ] && half=700
  delay=$(awk -v r="$RANDOM" -v h="$half" 'BEGIN { printf "%.2f", (h + r % 700) / 100 }')
  measure "trial $TRIAL: cutting power ${delay}s after the new key slot was written, during the revocation of $CURRENT (-> $NEXT)"
else
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r % 2000 / 100 }')
  measure "trial $TRIAL: cutting power ${delay}s into the rotation $CURRENT -> $NEXT (revoke_old $REVOKE)"
fi
sync
sleep "$delay"
guest_power_cut
