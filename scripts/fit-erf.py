#!/usr/bin/env python3
"""Fits the rational erf approximation SimdKernels.geluErf uses and checks it in float32.

erf(z) = z P(u) / Q(u), u = z^2, on |z| <= 4 (erf(4) rounds to 1 in float), P of degree 6,
Q of degree 4 with Q(0) = 1. The fit is linearised least squares (P - f Q) reweighted by the
previous Q (Loeb's iteration), on Chebyshev-spaced points, weighted towards absolute error of
erf. Prints the Java constants and the errors of GELU = 0.5 x (1 + erf(x / sqrt2)) evaluated
in float32. Needs numpy and mpmath (not part of the build).
"""
import mpmath
import numpy as np

mpmath.mp.dps = 30
U, DP, DQ, N = 16.0, 6, 4, 4000
u = (1 - np.cos(np.linspace(0, np.pi, N))) / 2 * U
z = np.sqrt(u)
f = np.array([float(mpmath.erf(mpmath.mpf(x)) / x) if x > 0 else float(2 / mpmath.sqrt(mpmath.pi)) for x in z])
q_prev = np.ones_like(u)
for _ in range(30):
    w = np.maximum(z / q_prev, 1e-3)
    a = np.hstack([np.vstack([u ** i for i in range(DP + 1)]).T, -(f[:, None] * np.vstack([u ** i for i in range(1, DQ + 1)]).T)])
    c, *_ = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)
    p, q = c[:DP + 1], np.concatenate([[1], c[DP + 1:]])
    q_prev = np.polyval(q[::-1], u)
print("max |erf error|, exact arithmetic: %.2e" % np.abs(z * (np.polyval(p[::-1], u) / q_prev - f)).max())
p32, q32 = [np.float32(v) for v in p], [np.float32(v) for v in q]
print("P:", ", ".join("%.9ef" % v for v in p32))
print("Q:", ", ".join("%.9ef" % v for v in q32[1:]))


def gelu32(x):
    x = x.astype(np.float32)
    zz = np.clip(x * np.float32(1 / np.sqrt(2)), np.float32(-4), np.float32(4)).astype(np.float32)
    uu = (zz * zz).astype(np.float32)
    pp, qq = p32[DP], q32[DQ]
    for i in range(DP - 1, -1, -1):
        pp = (pp * uu + p32[i]).astype(np.float32)
    for i in range(DQ - 1, -1, -1):
        qq = (qq * uu + q32[i]).astype(np.float32)
    erf = (zz * pp / qq).astype(np.float32)
    half = (np.float32(0.5) * x).astype(np.float32)
    return (half + half * erf).astype(np.float32)


xs = np.random.default_rng(1).uniform(-12, 10, 30000).astype(np.float32)
ref = np.array([float(0.5 * mpmath.mpf(float(x)) * mpmath.erfc(-mpmath.mpf(float(x)) / mpmath.sqrt(2))) for x in xs])
err = np.abs(gelu32(xs).astype(np.float64) - ref)
print("GELU float32: max |err| / |x| %.2e; max relative error for x > -1: %.2e" %
      ((err / np.abs(xs)).max(), (err / np.abs(ref))[xs > -1].max()))
