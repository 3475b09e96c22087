set -g pid 4549
set -g s /dev/shm/aeb-run-vauk11d1/autoenv/30522.stamp
mkdir -p (dirname $s); touch $s
set -g l (seq 20000)
function t0; for i in $l; builtin true; end; end
function t1; for i in $l; builtin string match -q -- "$pid (sleep) S *" </proc/$pid/stat; end; end
function t2; for i in $l; builtin test -e /proc/$pid/cwd/stamp; end; end
function t3; for i in $l; builtin test /var -nt $s; end; end
function t4; for i in $l; builtin test -e /proc/$pid/stat; end; end
for f in t0 t1 t2 t3 t4
  set -l a (date +%s%N); $f; set -l b (date +%s%N); echo $f (math "($b - $a) / 20000 / 1000") us
end
