// tests/core/kernels/reference_kernels.cpp — the naive reference kernels: straight from the definitions in
// llmatc/kernels.h, in double precision, no blocking, no threads.
#include "reference_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmatc::test {

std::vector<float> ref_matmul(const std::vector<float>& w, int64_t rows, int64_t cols, const std::vector<float>& x,
                              int64_t n) {
    std::vector<float> y(size_t(n * rows));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t r = 0; r < rows; ++r) {
            double s = 0;
            for (int64_t k = 0; k < cols; ++k) s += double(x[size_t(i * cols + k)]) * w[size_t(r * cols + k)];
            y[size_t(i * rows + r)] = float(s);
        }
    return y;
}

std::vector<float> ref_matmul_magnitude(const std::vector<float>& w, int64_t rows, int64_t cols,
                                        const std::vector<float>& x, int64_t n) {
    std::vector<float> y(size_t(n * rows));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t r = 0; r < rows; ++r) {
            double s = 0;
            for (int64_t k = 0; k < cols; ++k)
                s += std::fabs(double(x[size_t(i * cols + k)]) * w[size_t(r * cols + k)]);
            y[size_t(i * rows + r)] = float(s);
        }
    return y;
}

std::vector<float> ref_rmsnorm(const std::vector<float>& x, const std::vector<float>& w, int64_t n, int64_t dim,
                               float eps) {
    std::vector<float> out(x.size());
    for (int64_t i = 0; i < n; ++i) {
        double ss = 0;
        for (int64_t c = 0; c < dim; ++c) ss += double(x[size_t(i * dim + c)]) * x[size_t(i * dim + c)];
        const double inv = 1.0 / std::sqrt(ss / double(dim) + eps);
        for (int64_t c = 0; c < dim; ++c) out[size_t(i * dim + c)] = float(w[size_t(c)] * (x[size_t(i * dim + c)] * inv));
    }
    return out;
}

std::vector<float> ref_rope(const std::vector<float>& x, const std::vector<int32_t>& positions, int64_t n,
                            int32_t n_heads, int32_t head_dim, float theta, float pos_scale) {
    std::vector<float> out(x);
    const int32_t half = head_dim / 2;
    for (int64_t t = 0; t < n; ++t)
        for (int32_t h = 0; h < n_heads; ++h)
            for (int32_t i = 0; i < half; ++i) {
                const double angle = (double(positions[size_t(t)]) / pos_scale) *
                                     std::pow(double(theta), -2.0 * i / double(head_dim));
                const size_t base = size_t((t * n_heads + h) * head_dim);
                const double a = x[base + size_t(i)], b = x[base + size_t(i + half)];
                out[base + size_t(i)] = float(a * std::cos(angle) - b * std::sin(angle));
                out[base + size_t(i + half)] = float(b * std::cos(angle) + a * std::sin(angle));
            }
    return out;
}

std::vector<float> ref_silu_mul(const std::vector<float>& gate, const std::vector<float>& up) {
    std::vector<float> out(gate.size());
    for (size_t i = 0; i < gate.size(); ++i) {
        const double g = gate[i];
        out[i] = float(g / (1.0 + std::exp(-g)) * up[i]);
    }
    return out;
}

std::vector<float> ref_softmax(const std::vector<float>& x, int64_t n, int64_t dim) {
    std::vector<float> out(x.size());
    for (int64_t i = 0; i < n; ++i) {
        double max_value = -std::numeric_limits<double>::infinity();
        for (int64_t c = 0; c < dim; ++c) max_value = std::max(max_value, double(x[size_t(i * dim + c)]));
        double sum = 0;
        for (int64_t c = 0; c < dim; ++c) sum += std::exp(double(x[size_t(i * dim + c)]) - max_value);
        for (int64_t c = 0; c < dim; ++c)
            out[size_t(i * dim + c)] = float(std::exp(double(x[size_t(i * dim + c)]) - max_value) / sum);
    }
    return out;
}

std::vector<float> ref_attention(const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, int64_t n_past, int64_t n_new, int32_t n_heads,
                                 int32_t n_kv_heads, int32_t head_dim, float scale) {
    std::vector<float> out(size_t(n_new * n_heads * head_dim));
    const int32_t group = n_heads / n_kv_heads;
    for (int64_t i = 0; i < n_new; ++i) {
        const int64_t position = n_past + i;
        for (int32_t h = 0; h < n_heads; ++h) {
            const int32_t kv_head = h / group;
            std::vector<double> scores(size_t(position + 1));
            double max_score = -std::numeric_limits<double>::infinity();
            for (int64_t p = 0; p <= position; ++p) {
                double s = 0;
                for (int32_t c = 0; c < head_dim; ++c)
                    s += double(q[size_t((i * n_heads + h) * head_dim + c)]) *
                         k[size_t((p * n_kv_heads + kv_head) * head_dim + c)];
                scores[size_t(p)] = s * scale;
                max_score = std::max(max_score, scores[size_t(p)]);
            }
            double sum = 0;
            for (auto& s : scores) sum += (s = std::exp(s - max_score));
            for (int32_t c = 0; c < head_dim; ++c) {
                double acc = 0;
                for (int64_t p = 0; p <= position; ++p)
                    acc += scores[size_t(p)] * v[size_t((p * n_kv_heads + kv_head) * head_dim + c)];
                out[size_t((i * n_heads + h) * head_dim + c)] = float(acc / sum);
            }
        }
    }
    return out;
}

}  // namespace llmatc::test
