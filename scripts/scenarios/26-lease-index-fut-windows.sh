#!/usr/bin/env bash
# Scenario 26: option windows leased on an index and a future (issues 12 + 13), and a window that does
# not fit the lines left. README: `IND:SPX@CBOE#options=1x1` takes 1 + 1 x (2x1+1) x 2 = 7 lines "across
# all the trading classes IB lists, nearest first" and writes P:chain:SPX and P:option:<CLASS>:...;
# `FUT:ES.202612@CME#options=1x1` -> FOP keys P:option:<CLASS>.202612:...; a window needing more lines
# than are free (but fewer than exist) is `queued`, not refused; "more lines than exist" is refused.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 26-lease-index-fut-windows"
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 16; lease_config 4 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
lease i1 'IND:SPX@CBOE#options=1x1' 60
wait_for 15 state_is i1 'IND:SPX@CBOE#options=1x1' active && pass "SPX 1x1 window active" || fail "i1 state=$(rstate i1 'IND:SPX@CBOE#options=1x1') reason=$(rfield i1 'IND:SPX@CBOE#options=1x1' reason)"
nspx(){ [ $(( $(R --scan --pattern "$PFX:option:SPX:*" | wc -l) + $(R --scan --pattern "$PFX:option:SPXW:*" | wc -l) )) -ge 6 ]; }
wait_for 15 nspx; a=$(R --scan --pattern "$PFX:option:SPX:*" | wc -l); b=$(R --scan --pattern "$PFX:option:SPXW:*" | wc -l)
[ $((a+b)) = 6 ] && pass "SPX window: $a SPX + $b SPXW option keys (6)" || fail "SPX window: $a SPX + $b SPXW option keys, expected 6"
[ "$(R EXISTS $PFX:chain:SPX)" = 1 ] && pass "chain:SPX written ($(hget $PFX:chain:SPX trading_classes))" || fail "no chain:SPX"
near=$(for c in $(hget $PFX:chain:SPX trading_classes | tr ',' ' '); do hget $PFX:chain:SPX expirations:$c | tr ',' '\n'; done | sort | head -1)
got=$(R --scan --pattern "$PFX:option:SPX*:*" | cut -d: -f3,4 | sort -u | tr '\n' ' ')
case "$got" in *":$near "*) pass "SPX window on the nearest expiry across classes ($near): $got";; *) fail "SPX#options=1x1 window on '$got', not on the nearest expiry across SPX/SPXW ($near; README: 'across all the trading classes IB lists, nearest first')";; esac
for k in $(R --scan --pattern "$PFX:option:SPX*:*" | head -2); do info "$k: $(R HMGET $k symbol trading_class multiplier bid ask delta | paste -sd' ')"; done
sleep 2; n=$(sim_lines); [ "$n" = 8 ] && pass "8 lines (AAPL + SPX + 6 options)" || fail "$n lines, expected 8"
# a 1x1 FOP window on ES.202612 needs 7 lines: only 8 free of 16 -> fits; then a second 1x1 window needs 7 more -> queued
lease f1 'FUT:ES.202612@CME#options=1x1' 60
wait_for 15 state_is f1 'FUT:ES.202612@CME#options=1x1' active && pass "ES.202612 1x1 FOP window active" || fail "f1 state=$(rstate f1 'FUT:ES.202612@CME#options=1x1') reason=$(rfield f1 'FUT:ES.202612@CME#options=1x1' reason)"
nes(){ [ "$(R --scan --pattern "$PFX:option:*.202612:*" | wc -l)" -ge 6 ]; }
wait_for 15 nes && pass "ES FOP keys: $(R --scan --pattern "$PFX:option:*.202612:*" | cut -d: -f3 | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" || fail "ES FOP keys: $(R --scan --pattern "$PFX:option:*.202612:*" | wc -l), expected 6"
lease q1 'QQQ#options=1x1' 60
wait_for 10 state_is q1 'QQQ#options=1x1' queued && pass "QQQ 1x1 window (7 lines, 1 free) queued, place $(rfield q1 'QQQ#options=1x1' place)" || fail "q1 state=$(rstate q1 'QQQ#options=1x1') reason=$(rfield q1 'QQQ#options=1x1' reason)"
lease q2 'SPY#options=1x3' 60   # 1 + 14 = 15 lines: exist (15 leasable) but far from free
wait_for 10 state_is q2 'SPY#options=1x3' queued && pass "SPY 1x3 (15 of 15 leasable lines) queued" || info "q2 state=$(rstate q2 'SPY#options=1x3') reason=$(rfield q2 'SPY#options=1x3' reason)"
unlease i1 'IND:SPX@CBOE#options=1x1'
wait_for 15 state_is q1 'QQQ#options=1x1' active && pass "QQQ 1x1 window active once SPX's 7 lines were freed" || fail "q1 state=$(rstate q1 'QQQ#options=1x1') after SPX's window was given up"
sleep 3; n=$(sim_lines); [ "$n" -le 16 ] && pass "never more than 16 lines ($n)" || fail "$n lines > 16"
grep -q '"code":101' "$RUN/events.txt" && fail "IB error 101" || pass "no 101"
finish
