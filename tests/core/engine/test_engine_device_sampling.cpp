// tests/core/engine/test_engine_device_sampling.cpp — on stories260k, requests sampled by the backend's sample slot
// give what the host sampler gives for the same seed (a logprobs request takes the host path, nothing else differs).
#include <catch2/catch.hpp>

#include <numeric>
#include <vector>

#include "engine/sampling_params.h"
#include "engine_test_support.h"

using namespace engine_test;

namespace {

// One request with `p`, alone in its engine; `host_path` asks for logprobs, which keeps it on the host sampler.
void generate(llmatc_sampling_params p, bool host_path, Collected& out) {
    llmatc::EngineOptions o;
    o.served_model_name = "stories260k";
    auto engine = llmatc::Engine::create(load_stories(), o);
    if (host_path) p.logprobs = 0;
    REQUIRE(submit(engine->api(), {1, 403, 407, 261, 378}, p, &out) == LLMATC_OK);
    out.wait();
}

}  // namespace

TEST_CASE("device-sampled requests equal host-sampled ones for the same seed, token for token", "[engine][device]") {
    llmatc_sampling_params p{};
    llmatc::engine::fill_default_sampling(&p);
    p.max_tokens = 48;
    p.ignore_eos = 1;
    p.has_seed = 1;

    struct Case {
        float temperature;
        int32_t top_k;
        float top_p;
        float min_p;
        uint64_t seed;
    };
    for (const Case& c : {Case{0.0f, 0, 1.0f, 0.0f, 1}, Case{1.0f, 0, 1.0f, 0.0f, 7}, Case{0.8f, 40, 0.9f, 0.0f, 11},
                          Case{1.3f, 0, 0.95f, 0.05f, 12}, Case{0.6f, 5, 1.0f, 0.1f, 13}}) {
        INFO("temperature " << c.temperature << " top_k " << c.top_k << " top_p " << c.top_p << " min_p " << c.min_p);
        p.temperature = c.temperature;
        p.top_k = c.top_k;
        p.top_p = c.top_p;
        p.min_p = c.min_p;
        p.seed = c.seed;
        Collected device, host;
        generate(p, false, device);
        generate(p, true, host);
        REQUIRE(device.tokens.size() == 48);
        CHECK(device.tokens == host.tokens);
        CHECK(device.text == host.text);
        // The device path reports the chosen tokens' logprobs too: the running sum is the host's, bit for bit.
        CHECK(device.cumulative_logprob == host.cumulative_logprob);
        CHECK(host.cumulative_logprob == std::accumulate(host.logprobs.begin(), host.logprobs.end(), 0.0));
    }
}
