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
set key top left
set xlabel "stored secrets / past flows (log scale)"
set output dir.'/scale-cpu.png'
set ylabel "server CPU per release (ms, median)"
set yrange [0:*]
plot dir.'/scale-secrets.dat' using 1:2 with linespoints lw 2 pt 7 title "stored secrets", \
     dir.'/scale-flows.dat' using 5:2 with linespoints lw 2 pt 5 title "past flows (2 ledger entries + 1 session each)"
set output dir.'/scale-rate.png'
set ylabel "releases per second (median)"
plot dir.'/scale-secrets.dat' using 1:3 with linespoints lw 2 pt 7 title "stored secrets", \
     dir.'/scale-flows.dat' using 5:3 with linespoints lw 2 pt 5 title "past flows (2 ledger entries + 1 session each)"
