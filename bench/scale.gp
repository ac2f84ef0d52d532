# Plots of bench/scale.sh's medians (docs/bench/scale-secrets.dat, scale-flows.dat):
#   gnuplot -e "dir='docs/bench'" bench/scale.gp
# scale-cpu.png: server CPU per attested release against stored secrets and past flows;
# scale-rate.png: releases per second against the same.
if (!exists("dir")) dir = 'docs/bench'
set terminal pngcairo size 800,480 font ",10"
set logscale x 10
set format x "10^{%L}"
set xrange [*:*]
set grid
set key bottom right box opaque
set xlabel "stored secrets / past flows (log scale)"
set output dir.'/scale-cpu.png'
set ylabel "server CPU per release (ms, median)"
set yrange [0:*]
# the target of issue 19: at 10^6, at most 1.15 times the figure at the smallest size
stats dir.'/scale-secrets.dat' using 2 every ::0::0 nooutput
ts = 1.15 * STATS_min
stats dir.'/scale-flows.dat' using 2 every ::0::0 nooutput
tf = 1.15 * STATS_min
plot dir.'/scale-secrets.dat' using 1:2 with linespoints lw 2 pt 7 lc 1 title "stored secrets", \
     ts with lines dt 2 lc 1 title "1.15 x secrets at the smallest size", \
     tf with lines dt 3 lc 2 title "1.15 x flows at the smallest size", \
     dir.'/scale-flows.dat' using 5:2 with linespoints lw 2 pt 5 lc 2 title "past flows (2 ledger entries + 1 session each)"
set output dir.'/scale-rate.png'
set ylabel "releases per second (median)"
# the machine's load average during the runs (median): the rate follows it
set y2label "load average, 1 min (median; open marks)"
set y2tics
set y2range [0:*]
plot dir.'/scale-secrets.dat' using 1:3 with linespoints lw 2 pt 7 lc 1 title "stored secrets", \
     dir.'/scale-flows.dat' using 5:3 with linespoints lw 2 pt 5 lc 2 title "past flows (2 ledger entries + 1 session each)", \
     dir.'/scale-secrets.dat' using 1:4 axes x1y2 with points pt 6 lc 1 title "load, secrets runs", \
     dir.'/scale-flows.dat' using 5:4 axes x1y2 with points pt 4 lc 2 title "load, flows runs"
