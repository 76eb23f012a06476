#!/bin/sh
# bench/run.sh — `make bench`: ca-audit at CA scale, each step timed with its
# peak RSS, on a generated dataset of BENCH_CERTS certificates.
#
# The dataset and the nightly increment are generated once and cached under
# BENCH_CACHE, in a directory named after the generator's options and the
# first 16 hex digits of the generator binary's SHA-256, so a changed
# generator makes a new dataset and an unchanged one is never rebuilt. The
# cache is read only: every run works in BENCH_WORK, which links to it.
#
# Steps: d2i_X509 baseline on the same certificate files; certificate
# ingest; event (and CRL) ingest; check (all configured checklists, then
# each checklist alone); self-inspection XLSX and PDF; the nightly increment
# (5,000 more applications with their certificates and a new JSONL log)
# ingested into the store, then a check; a self-inspection XLSX from a copy of
# the store padded to BENCH_FINDINGS findings; the same RA logs as a CSV
# export (converted once by bench/csv_from_jsonl.py, cached beside the
# dataset) ingested into an empty store through a mapping; BENCH_PEM of the
# certificate files through the pem source (a file each) into another.
#
# Environment (the Makefile sets them): BENCH_CERTS, BENCH_CACHE, BENCH_WORK,
# BENCH_BIN, BENCH_GEN, BENCH_D2I, BENCH_INC (applications in the increment),
# BENCH_FINDINGS, BENCH_ASOF, BENCH_PEM.
set -eu

N=${BENCH_CERTS:-1000000}
CACHE=${BENCH_CACHE:-bench/cache}
WORK=${BENCH_WORK:-build/bench/work}
BIN=${BENCH_BIN:-build/ca-audit}
GEN=${BENCH_GEN:-build/gen}
D2I=${BENCH_D2I:-build/bench/d2i_baseline}
INC=${BENCH_INC:-5000}
FINDINGS=${BENCH_FINDINGS:-1000000}
PEM=${BENCH_PEM:-50000}
ASOF=${BENCH_ASOF:-2026-01-15}
NIGHT_ASOF=2026-02-15
VIOL=0.05
SEED=1

abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CACHE=$(abs "$CACHE"); WORK=$(abs "$WORK"); BIN=$(abs "$BIN"); GEN=$(abs "$GEN")
D2I=$(abs "$D2I")
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

GENHASH=$(sha256sum "$GEN" | cut -c1-16)

# gen_cached DIR ARGS...: DIR made by the generator once, atomically.
gen_cached() {
	dir=$1; shift
	if [ ! -f "$dir/ca-audit.yaml" ]; then
		echo "bench: generating $(basename "$dir") (cached for later runs)" >&2
		rm -rf "$dir.tmp"
		mkdir -p "$CACHE"
		start=$(date +%s)
		"$GEN" -o "$dir.tmp" "$@" >/dev/null
		mv "$dir.tmp" "$dir"
		echo "bench: generated in $(( $(date +%s) - start )) s" >&2
	fi
}

DS=$CACHE/gen-$N-v$VIOL-s$SEED-$GENHASH
INCDS=$CACHE/inc-$INC-s2-$GENHASH
gen_cached "$DS" --certs "$N" --seed "$SEED" --violations "$VIOL"
# The increment: applications after everything in the dataset (which ends
# 2025-12-31), so their ids and logs do not collide; the generator wants at
# least 30 days, so they span 2026-01-01..2026-02-14 and the nightly steps
# run as of the day after.
gen_cached "$INCDS" --certs "$INC" --seed 2 --violations "$VIOL" \
	--start 2026-01-01 --end 2026-02-14
CSVDS=$DS-csv
if [ ! -f "$CSVDS/map.yaml" ]; then
	echo "bench: converting the RA logs to CSV (cached for later runs)" >&2
	rm -rf "$CSVDS.tmp"
	python3 "$(dirname "$0")/csv_from_jsonl.py" "$DS" "$CSVDS.tmp"
	mv "$CSVDS.tmp" "$CSVDS"
fi

rm -rf "$WORK"
mkdir -p "$WORK/logs" "$WORK/inc"
ln -s "$DS/ca" "$WORK/ca"
ln -s "$DS/crl" "$WORK/crl"
for f in "$DS"/logs/*.jsonl; do ln -s "$f" "$WORK/logs/"; done
ln -s "$INCDS/ca" "$WORK/inc/ca"
cp "$DS/ca-audit.yaml" "$WORK/full.yaml"
# certificates only: without the events and crls sources
grep -v -e '^  events:' -e 'type: jsonl' -e '^  crls:' -e 'crl/\*\.crl' \
	"$DS/ca-audit.yaml" > "$WORK/certs.yaml"
# certificates and events: without the crls source (CRLs are cumulative, so
# their entries grow with the square of the dataset: measured apart)
grep -v -e '^  crls:' -e 'crl/\*\.crl' "$DS/ca-audit.yaml" > "$WORK/events.yaml"
# the nightly configuration: a second certificate database, the increment's
sed 's#^\(    - {type: openssl-index, index: ca/index.txt, certs: ca/newcerts}\)$#\1\n    - {type: openssl-index, index: inc/ca/index.txt, certs: inc/ca/newcerts}#' \
	"$DS/ca-audit.yaml" > "$WORK/nightly.yaml"
grep -q 'inc/ca/index.txt' "$WORK/nightly.yaml" || { echo "bench: unexpected dataset config" >&2; exit 1; }

DB=$WORK/ca-audit.db
RES=$WORK/results.txt
: > "$RES"

# step NAME CMD...: runs CMD, records wall seconds, CPU seconds (user +
# system: the machine is shared, so wall time alone says little) and peak RSS.
step() {
	name=$1; shift
	/usr/bin/time -f "%e %M %U %S" -o "$WORK/time.out" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
		rc=$?
		# check exits 2 when it finds violations: that is a result
		[ $rc = 2 ] || { echo "bench: step $name failed ($rc):" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
	}
	set -- $(tail -1 "$WORK/time.out")
	printf '%-26s %9.2f s wall %9.2f s cpu %6d MB\n' "$name" "$1" \
		"$(awk -v u="$3" -v s="$4" 'BEGIN{print u+s}')" $(( $2 / 1024 )) | tee -a "$RES"
	LAST=$1
}
# word-split on purpose: the work directory must not contain spaces
CA="$BIN --no-progress --db $DB --as-of $ASOF"
q() { sqlite3 "$DB" "$1"; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }

echo "bench: $N certificates, dataset $DS" | tee -a "$RES"

step d2i_baseline "$D2I" "$WORK/ca/index.txt" "$WORK/ca/newcerts"
set -- $(tr ' ' '\n' < "$WORK/d2i_baseline.out" | sed -n 's/^\(certs\|wall\|d2i\)=//p')
B_CERTS=$1 B_WALL=$2 B_D2I=$3

# -v: each ingest says how long its deferred indexes took to build
indexes() { sed -n 's/^ca-audit: \(built index .*\)/  \1/p' "$WORK/$1.err" | grep -v ' in 0.00 s' | tee -a "$RES"; }
step ingest_certificates $CA -v -c "$WORK/certs.yaml" ingest
indexes ingest_certificates
T_CERT=$LAST
CERTS=$(q "SELECT count(*) FROM certificate")
step ingest_events $CA -v -c "$WORK/events.yaml" ingest
indexes ingest_events
T_EV=$LAST
EVENTS=$(q "SELECT count(*) FROM event")
step ingest_crls $CA -c "$WORK/full.yaml" ingest
T_CRL=$LAST
CRL_ENTRIES=$(q "SELECT count(*) FROM crl_entry")
APPS=$(q "SELECT count(*) FROM application")
MIX=$(q "SELECT group_concat(key_alg || ' ' || n, ', ') FROM (SELECT key_alg, count(*) n FROM certificate GROUP BY 1)")

# Each checklist alone, then all four together (the run the reports render),
# each as a first check: --rebuild makes the kept views anew, where a later
# check would reuse them. The four together are less than the sum of the
# four alone: the kept views they share (issuance, above all) are made once,
# and at once, a thread each (as CA_AUDIT_THREADS allows).
for cl in miit-2022 egov-2009 shenzhen-2011 gd-hk-2012; do
	step "check_$cl" $CA -c "$WORK/full.yaml" check --rebuild --checklist "$cl" \
		-o "$WORK/findings-$cl.txt"
done
step check_all_four $CA -c "$WORK/full.yaml" check --rebuild --checklist miit-2022 --checklist egov-2009 \
	--checklist shenzhen-2011 --checklist gd-hk-2012 -o "$WORK/findings.txt"
T_CHECK=$LAST
NF=$(q "SELECT count(*) FROM finding WHERE run = (SELECT max(id) FROM run)")
step report_xlsx $CA -c "$WORK/full.yaml" report self-inspection --format xlsx -o "$WORK/reports"
step report_pdf $CA -c "$WORK/full.yaml" report self-inspection --format pdf -o "$WORK/reports"

# the increment's logs may share a month's name with the dataset's (events of
# late-2025 applications run into January): linked under a name of their own
# that the configuration's logs/ra-*.jsonl still matches
for f in "$INCDS"/logs/*.jsonl; do ln -s "$f" "$WORK/logs/ra-inc-$(basename "$f" | sed 's/^ra-//')"; done
NIGHT="$BIN --no-progress --db $DB --as-of $NIGHT_ASOF"
C0=$CERTS E0=$EVENTS A0=$APPS
step nightly_ingest $NIGHT -c "$WORK/nightly.yaml" ingest
T_NI=$LAST
step nightly_check $NIGHT -c "$WORK/nightly.yaml" check --checklist miit-2022 --checklist egov-2009 \
	--checklist shenzhen-2011 --checklist gd-hk-2012 -o "$WORK/findings-nightly.txt"
T_NC=$LAST
NI_CERTS=$(( $(q "SELECT count(*) FROM certificate") - C0 ))
NI_EVENTS=$(( $(q "SELECT count(*) FROM event") - E0 ))
NI_APPS=$(( $(q "SELECT count(*) FROM application") - A0 ))

# A copy of the store whose latest run has FINDINGS findings: the run's own,
# then item 1.4 findings on further certificates, made like the engine's.
cp "$DB" "$WORK/synth.db"
rm -f "$WORK/synth.db-wal" "$WORK/synth.db-shm"
sqlite3 "$WORK/synth.db" "
WITH r(id) AS (SELECT max(id) FROM run),
     have(n) AS (SELECT count(*) FROM finding WHERE run = (SELECT id FROM r))
INSERT OR IGNORE INTO finding(run, checklist, item, key, severity, message, evidence,
  status, first_seen, last_seen, record_date)
SELECT (SELECT id FROM r), 'miit-2022', '1.4', 'serial:' || serial || '-' || k.i, 'high',
  '证书内容不完整或不准确',
  json_object('serial', serial, 'cn', cn, 'id_number', id_number, 'not_after', not_after),
  'new', '$ASOF', '$ASOF', substr(not_before, 1, 10)
FROM certificate, (SELECT 1 AS i UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
  UNION ALL SELECT 5) k
LIMIT max(0, $FINDINGS - (SELECT n FROM have));"
SF=$(sqlite3 "$WORK/synth.db" "SELECT count(*) FROM finding WHERE run = (SELECT max(id) FROM run)")
step "report_xlsx_${SF}_findings" "$BIN" --no-progress --db "$WORK/synth.db" --as-of "$ASOF" \
	-c "$WORK/full.yaml" report self-inspection --format xlsx -o "$WORK/synth-reports"

# The RA logs as a CSV export, into a store of their own: the CSV source's
# rate beside the JSON Lines source's (the step above also had the
# certificates in the store; this one has only the events).
cat > "$WORK/csv.yaml" <<END
ca: {name: bench}
timezone: Asia/Shanghai
sources:
  events:
    - {type: csv, path: "$CSVDS/logs/ra-*.csv", mapping: "$CSVDS/map.yaml"}
END
rm -f "$WORK/synth.db" "$WORK/synth.db-wal" "$WORK/synth.db-shm"
step ingest_events_csv "$BIN" --no-progress --db "$WORK/csv.db" -c "$WORK/csv.yaml" ingest
T_CSV=$LAST
CSV_EVENTS=$(sqlite3 "$WORK/csv.db" "SELECT count(*) FROM event")
rm -f "$WORK/csv.db" "$WORK/csv.db-wal" "$WORK/csv.db-shm"

# BENCH_PEM of the certificate files as a directory of PEM files (the pem
# source, a file each: the CA without an index), into a store of their own.
mkdir -p "$WORK/pem"
find "$DS/ca/newcerts" -name '*.pem' | head -n "$PEM" | xargs ln -s -t "$WORK/pem"
cat > "$WORK/pem.yaml" <<END
ca: {name: bench}
timezone: Asia/Shanghai
sources:
  certificates:
    - {type: pem, path: "$WORK/pem/*.pem"}
END
PEM_FILES=$(find "$WORK/pem" -name '*.pem' | wc -l)
step "ingest_pem_$PEM_FILES" "$BIN" --no-progress --db "$WORK/pem.db" -c "$WORK/pem.yaml" ingest
T_PEM=$LAST
PEM_CERTS=$(sqlite3 "$WORK/pem.db" "SELECT count(*) FROM certificate")
rm -rf "$WORK/pem" "$WORK/pem.db" "$WORK/pem.db-wal" "$WORK/pem.db-shm"

{
	echo
	echo "certificates ingested:   $CERTS ($MIX)"
	echo "events ingested:         $EVENTS for $APPS applications ($(awk -v e="$EVENTS" -v c="$CERTS" 'BEGIN{printf "%.1f", e/c}') per certificate)"
	echo "certificate ingest:      $(rate "$CERTS" "$T_CERT") certificates/s"
	echo "d2i_X509 baseline:       $(rate "$B_CERTS" "$B_WALL") certificates/s (read + PEM + d2i_X509; d2i_X509 alone $(rate "$B_CERTS" "$B_D2I")/s)"
	echo "ingest / baseline:       $(awk -v a="$T_CERT" -v b="$B_WALL" -v n="$CERTS" -v m="$B_CERTS" 'BEGIN{printf "%.2f", (n/a)/(m/b)}')x"
	echo "event ingest:            $(rate "$EVENTS" "$T_EV") events/s"
	echo "event ingest, CSV:       $(rate "$CSV_EVENTS" "$T_CSV") events/s ($CSV_EVENTS events)"
	echo "CRL ingest:              $CRL_ENTRIES entries in $T_CRL s"
	echo "PEM files:               $PEM_CERTS certificates from $PEM_FILES files in $T_PEM s ($(rate "$PEM_CERTS" "$T_PEM") certificates/s)"
	echo "ingest + check:          $(awk -v a="$T_CERT" -v b="$T_EV" -v c="$T_CHECK" -v d="$T_CRL" 'BEGIN{printf "%.1f", a+b+c+d}') s"
	echo "findings in the run:     $NF"
	echo "nightly increment:       $NI_APPS applications, $NI_CERTS certificates, $NI_EVENTS events: ingest $T_NI s, check $T_NC s"
} | tee -a "$RES"
echo "bench: results in $RES"
