#!/usr/bin/env python3
# A/B of two mote binaries, interleaved runs on the same compiled models (for a shared, noisy
# machine): per model the median of the whole-model medians, and the depthwise layers (output
# [1, H, W, C] with MACs = H·W·C·k², k = 3 or 5) with each layer's minimum over the runs; the
# new/old ratio is the median over runs of the two binaries' medians measured back to back.
#
#   python3 scripts/bench-ab.py OLD_MOTE NEW_MOTE A.mote,B.mote RUNS
import json, subprocess, sys, statistics
bins = sys.argv[1:3]; models = sys.argv[3].split(','); runs = int(sys.argv[4])
for m in models:
    iters = '10' if 'mobilenet' in m else '200'
    med = {b: [] for b in bins}; lay = {b: {} for b in bins}; dw = set(); macs = {}
    for r in range(runs):
        for b in bins:
            d = json.loads(subprocess.run(['nice', b, 'bench', m, '--iters', iters, '--warmup', '3', '--json', '--per-op'], capture_output=True, text=True).stdout)
            med[b].append(d['median_ms'])
            for o in d['ops']:
                n, h, w, c = (o['output'] + [0, 0, 0, 0])[:4]
                if o['op'].startswith('Conv2d') and o['macs'] in (h * w * c * 9, h * w * c * 25):
                    dw.add(o['index']); macs[o['index']] = o['macs']
                lay[b][o['index']] = min(lay[b].get(o['index'], 1e9), o['ms'])
    ratio = statistics.median(n / o for o, n in zip(med[bins[0]], med[bins[1]]))
    # The machine is shared: a run that lands in a slow phase (another tenant, a lower clock)
    # moves the medians, never the fastest runs, so the ratio of the two minima is the robust one.
    fastest = min(med[bins[1]]) / min(med[bins[0]])
    print(f"{m}: new / old {ratio:.3f} (median of the per-run ratios), {fastest:.3f} (fastest runs)")
    for b in bins:
        line = f"  {b}: model median {statistics.median(med[b]):.3f} ms (runs {', '.join('%.3f' % x for x in med[b])})"
        if dw:
            t = sum(lay[b][i] for i in dw); tot = sum(lay[b].values()); mac = sum(macs[i] for i in dw)
            best = max(macs[i] / lay[b][i] / 1e6 for i in dw)
            line += f"; depthwise {len(dw)} layers {t:.3f} ms = {mac / t / 1e6:.2f} GMAC/s (best layer {best:.1f}), {100 * t / tot:.0f} % of per-op sum"
        print(line)
