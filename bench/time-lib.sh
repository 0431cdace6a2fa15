# Sourced by the bench scripts that run a command under `/usr/bin/time -v`: the two
# figures they read from its report (the file the command's stderr went to).

# Wall-clock seconds, one decimal (`Elapsed (wall clock) time (h:mm:ss or m:ss): 0:18.79`).
time_wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; printf "%.1f", s}' "$1"
}

# Peak resident set size in MiB (`Maximum resident set size (kbytes): 2726048`).
time_peak_mib() {
  awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$1"
}
