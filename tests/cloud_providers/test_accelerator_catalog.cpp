// tests/cloud_providers/test_accelerator_catalog.cpp — instance choice for NAME:COUNT, refusals that list the valid
// choices, and the catalog data files' integrity.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "accelerator_catalog.h"

using namespace llmatc::cloud_catalog;

TEST_CASE("the seed commands pick the documented instance types") {
    CHECK(choose_instance(aws_catalog(), "V100", 1, "us-east-2", "").offer.instance_type == "p3.2xlarge");
    CHECK(choose_instance(gcp_catalog(), "A100", 1, "asia-southeast1", "").offer.instance_type == "a2-highgpu-1g");
    CHECK(choose_instance(gcp_catalog(), "A100-80GB", 2, "us-central1", "").offer.instance_type == "a2-ultragpu-2g");
    const auto a80 = choose_instance(aws_catalog(), "A100-80GB", 2, "us-east-2", "");
    CHECK(a80.offer.instance_type == "p4de.24xlarge");
    CHECK(a80.offer.count == 8);
}

TEST_CASE("a count no type has exactly takes the smallest that holds it, said plainly") {
    const auto c = choose_instance(aws_catalog(), "A100", 1, "us-east-1", "");
    CHECK(c.offer.instance_type == "p4d.24xlarge");
    CHECK(c.note.find("has 8") != std::string::npos);
    CHECK(c.note.find("exactly 1") != std::string::npos);
    // V100:2 on AWS: p3.8xlarge (4) rather than p3.16xlarge (8).
    CHECK(choose_instance(aws_catalog(), "V100", 2, "us-west-2", "").offer.instance_type == "p3.8xlarge");
    CHECK(choose_instance(aws_catalog(), "V100", 1, "us-west-2", "").note.empty());
}

TEST_CASE("among types with exactly COUNT, the cheapest wins") {
    // A10G:1 exists as g5.xlarge, g5.2xlarge, g5.4xlarge: g5.xlarge is cheapest.
    CHECK(choose_instance(aws_catalog(), "A10G", 1, "us-east-1", "").offer.instance_type == "g5.xlarge");
    CHECK(choose_instance(aws_catalog(), "a10g", 4, "us-east-1", "").offer.instance_type == "g5.12xlarge");
    CHECK(choose_instance(gcp_catalog(), "L4", 1, "europe-west4", "").offer.instance_type == "g2-standard-4");
}

TEST_CASE("zones: all of the region's in order, or just the one asked") {
    const auto c = choose_instance(aws_catalog(), "V100", 1, "us-east-2", "");
    CHECK(c.zones == std::vector<std::string>{"us-east-2a", "us-east-2b", "us-east-2c"});
    CHECK(choose_instance(aws_catalog(), "V100", 1, "us-east-2", "us-east-2b").zones == std::vector<std::string>{"us-east-2b"});
    // GCP lists per-GPU zones: A100 in asia-southeast1 is only in -b and -c.
    CHECK(choose_instance(gcp_catalog(), "A100", 1, "asia-southeast1", "").zones ==
          std::vector<std::string>{"asia-southeast1-b", "asia-southeast1-c"});
}

TEST_CASE("unknown accelerators, regions and zones are refused with the valid choices") {
    try {
        choose_instance(aws_catalog(), "B200", 1, "us-east-1", "");
        FAIL("B200 accepted");
    } catch (const CatalogError& e) {
        const std::string m = e.what();
        CHECK(m.find("unknown accelerator 'B200'") != std::string::npos);
        CHECK(m.find("V100") != std::string::npos);
        CHECK(m.find("A100-80GB") != std::string::npos);
    }
    try {
        choose_instance(aws_catalog(), "V100", 1, "mars-north-1", "");
        FAIL("bad region accepted");
    } catch (const CatalogError& e) {
        CHECK(std::string(e.what()).find("us-east-2") != std::string::npos);
    }
    try {
        choose_instance(aws_catalog(), "V100", 1, "us-east-2", "us-east-2z");
        FAIL("bad zone accepted");
    } catch (const CatalogError& e) {
        CHECK(std::string(e.what()).find("us-east-2a, us-east-2b, us-east-2c") != std::string::npos);
    }
    try {  // V100 exists on GCP, but not in asia-southeast1.
        choose_instance(gcp_catalog(), "V100", 1, "asia-southeast1", "");
        FAIL("V100 in asia-southeast1 accepted");
    } catch (const CatalogError& e) {
        const std::string m = e.what();
        CHECK(m.find("not offered in asia-southeast1") != std::string::npos);
        CHECK(m.find("us-central1") != std::string::npos);
    }
    CHECK_THROWS_AS(choose_instance(aws_catalog(), "V100", 9, "us-east-1", ""), CatalogError);
    CHECK_THROWS_AS(choose_instance(aws_catalog(), "V100", 0, "us-east-1", ""), CatalogError);
}

TEST_CASE("the catalogs state their date and source, and every price is positive") {
    for (const Catalog* c : {&aws_catalog(), &gcp_catalog()}) {
        CHECK(c->date.size() == 10);
        CHECK(c->source.find("pprox") != std::string::npos);
        for (const auto& o : c->offers) {
            CHECK(o.count >= 1);
            CHECK(o.gpu_memory_gib > 0);
            CHECK(!o.prices.empty());
            for (const auto& [region, price] : o.prices) {
                INFO(o.instance_type << " " << region);
                CHECK(price > 0);
                CHECK(c->regions.count(region) == 1);
            }
        }
    }
    for (const auto& o : gcp_catalog().offers) CHECK(!o.accelerator_type.empty());
}

TEST_CASE("the ABI catalog JSON has one offer per type and region with zones and price") {
    rapidjson::Document d;
    const std::string text = catalog_abi_json(aws_catalog());
    d.Parse(text.c_str());
    REQUIRE(d.IsObject());
    REQUIRE(d["offers"].IsArray());
    bool saw = false;
    for (const auto& o : d["offers"].GetArray())
        if (std::string(o["instance_type"].GetString()) == "p3.2xlarge" && std::string(o["region"].GetString()) == "us-east-2") {
            saw = true;
            CHECK(o["count"].GetInt() == 1);
            CHECK(o["hourly_price"].GetDouble() > 1.0);
            CHECK(o["zones"].Size() == 3);
        }
    CHECK(saw);
}

TEST_CASE("a malformed catalog file is refused naming the file and field") {
    CHECK_THROWS_WITH(parse_catalog("[]", "x.json"), Catch::Contains("x.json"));
    CHECK_THROWS_WITH(parse_catalog(R"({"cloud":"c","source":"s","date":"d","currency":"USD","regions":{"r":[]},
        "offers":[{"instance_type":"t","accelerator":"A","count":1,"gpu_memory_gib":1,"vcpus":1,"memory_gib":1,
        "prices":{"elsewhere":1}}]})", "y.json"),
                      Catch::Contains("elsewhere"));
}
