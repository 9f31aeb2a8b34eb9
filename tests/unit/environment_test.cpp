#include "harness/machine/environment.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/results/warnings.hpp"

namespace ipcmark {
namespace {

const std::string kEnv = std::string(IPCMARK_TEST_DATA) + "/env/";

TEST(Environment, AVmInADockerContainerWithoutCpufreqOrSmt) {
  const Environment e = read_environment(kEnv + "kvm-docker");
  EXPECT_EQ(e.online_cpus, 2);
  EXPECT_TRUE(e.smt_sibling_groups.empty());
  EXPECT_EQ(e.governor, "");
  EXPECT_FALSE(e.boost.has_value());
  EXPECT_EQ(e.clocksource, "tsc");
  EXPECT_EQ(e.virtualization, "unknown hypervisor");  // the cpuinfo flag, no DMI
  EXPECT_EQ(e.container, "docker");
  EXPECT_EQ(e.isolated_cpus, "");
  const nlohmann::json j = to_json(e);
  EXPECT_TRUE(j["governor"].is_null());
  EXPECT_TRUE(j["boost"].is_null());
}

TEST(Environment, BareMetalWithSmtSiblingsPerformanceGovernorAndTurboOff) {
  const Environment e = read_environment(kEnv + "smt-performance");
  EXPECT_EQ(e.online_cpus, 4);
  EXPECT_EQ(e.smt_sibling_groups, (std::vector<std::string>{"0,2", "1,3"}));
  EXPECT_EQ(e.governor, "performance");
  ASSERT_TRUE(e.boost.has_value());
  EXPECT_FALSE(*e.boost);  // intel_pstate/no_turbo = 1
  EXPECT_EQ(e.clocksource, "hpet");
  EXPECT_EQ(e.virtualization, "none");
  EXPECT_EQ(e.container, "none");
  EXPECT_EQ(e.isolated_cpus, "3");
}

TEST(Environment, MissingTreeGivesEmptyFieldsNotErrors) {
  const Environment e = read_environment(kEnv + "does-not-exist");
  EXPECT_EQ(e.online_cpus, 0);
  EXPECT_EQ(e.container, "none");
}

TEST(Environment, CpuListsAreCounted) {
  EXPECT_EQ(count_cpu_list("0-3,8,10-11"), 7);
  EXPECT_EQ(count_cpu_list("5"), 1);
  EXPECT_EQ(count_cpu_list(""), 0);
  EXPECT_EQ(count_cpu_list("3-1"), 0);
  EXPECT_EQ(count_cpu_list("x"), 0);
}

TEST(Environment, CacheSizesAreParsed) {
  EXPECT_EQ(parse_cache_size("48K"), 48u << 10);
  EXPECT_EQ(parse_cache_size("32M"), 32u << 20);
  EXPECT_EQ(parse_cache_size("512"), 512u);
  EXPECT_EQ(parse_cache_size(""), 0u);
}

TEST(Warnings, EachConditionIsSaidOnce) {
  const nlohmann::json quiet{{"library_build_type", "release"}, {"cpu_scaling_enabled", false},
                             {"load_avg", {0.1, 0.1, 0.1}},     {"num_cpus", 2},
                             {"clocksource", "tsc"},            {"timer_cost_ns", 20.0},
                             {"topology", {{"governor", nullptr}}}};
  EXPECT_TRUE(environment_warnings(quiet, 2).empty());
  nlohmann::json loud = quiet;
  loud["library_build_type"] = "debug";
  loud["cpu_scaling_enabled"] = true;
  loud["topology"]["governor"] = "powersave";
  loud["load_avg"] = {3.0, 1.0, 1.0};
  loud["clocksource"] = "hpet";
  loud["timer_cost_ns"] = 900.0;
  const auto w = environment_warnings(loud, 1);
  ASSERT_EQ(w.size(), 6u);
  EXPECT_NE(w[1].find("powersave"), std::string::npos);
  EXPECT_NE(w[4].find("hpet"), std::string::npos);
}

}  // namespace
}  // namespace ipcmark
