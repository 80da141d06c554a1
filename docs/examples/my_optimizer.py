import numba, numpy as np, nntoolbox as nt

@numba.njit(cache=True)
def lookahead(p, state, hyper, out):          # theta~ = theta + alpha v
    for i in range(p.shape[0]):
        out[i] = p[i] + hyper[1] * state[0, i]

@numba.njit(cache=True)
def update(p, g, state, hyper, t):            # hyper = [lr, alpha, rho, delta]
    lr, alpha, rho, delta = hyper[0], hyper[1], hyper[2], hyper[3]
    v, r = state[0], state[1]
    for i in range(p.shape[0]):
        r[i] = rho * r[i] + (1 - rho) * g[i] * g[i]
        v[i] = alpha * v[i] - lr * g[i] / np.sqrt(delta + r[i])
        p[i] = p[i] + v[i]

nt.register_optimizer("MyRMSProp_Nesterov", update, lookahead=lookahead, slots=("v", "r"),
                      hyper={"momentum": 0.9, "rho": 0.9, "delta": 1e-6})
