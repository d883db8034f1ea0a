#!/usr/bin/env python3
# Per-layer A/B of two mote binaries on one compiled model, for a shared, noisy machine: the
# binaries run alternately RUNS times (`mote bench --per-op --json`, ITERS iterations each), and
# every layer's minimum over the runs is compared, so a change that moves a few layers is seen
# even when the whole model's median moves more between rounds than the change itself.
#
#   python3 scripts/bench-ab-layers.py OLD_MOTE NEW_MOTE MODEL.mote RUNS ITERS [LAYERS]
#
# Prints the sum of the per-layer minima of each binary and the LAYERS (default 25) costliest
# layers of OLD with both minima, their ratio and GMAC/s.
import json, subprocess, sys
bins = sys.argv[1:3]; model = sys.argv[3]; runs = int(sys.argv[4]); iters = sys.argv[5]
top = int(sys.argv[6]) if len(sys.argv) > 6 else 25
best = {b: {} for b in bins}; names = {}; macs = {}
for r in range(runs):
    for b in bins:
        out = subprocess.run([b, 'bench', model, '--iters', iters, '--warmup', '2', '--json', '--per-op'],
                             capture_output=True, text=True, check=True).stdout
        for o in json.loads(out)['ops']:
            i = o['index']; names[i] = o['name'][-40:]; macs[i] = o['macs']
            best[b][i] = min(best[b].get(i, float('inf')), o['ms'])
tot = [sum(best[b].values()) for b in bins]
print(f"{model}: sum of per-layer minima {tot[0]:.3f} -> {tot[1]:.3f} ms ({tot[1] / tot[0]:.3f})")
gmacs = lambda i, ms: macs[i] / ms / 1e6 if ms > 0 else 0.0
for i in sorted(names, key=lambda i: -best[bins[0]][i])[:top]:
    a, c = best[bins[0]][i], best[bins[1]][i]
    print(f"  {i:3d} {names[i]:40s} {a:8.4f} {c:8.4f} {c / a if a else 0:6.3f}"
          f"  {gmacs(i, a):6.1f} -> {gmacs(i, c):6.1f} GMAC/s")
