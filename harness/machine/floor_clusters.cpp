#include "harness/machine/floor_clusters.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "harness/measure/stats.hpp"

namespace ipcmark {
namespace {

FloorCluster cluster_of(std::string label, const std::vector<double>& sorted, std::size_t begin, std::size_t end) {
  const std::vector<double> part(sorted.begin() + static_cast<std::ptrdiff_t>(begin),
                                 sorted.begin() + static_cast<std::ptrdiff_t>(end));
  return {std::move(label), median(part), part.front(), part.back(), static_cast<int>(part.size())};
}

}  // namespace

std::optional<FloorClusters> cluster_floors(std::vector<double> rtt) {
  std::erase_if(rtt, [](double v) { return !(v > 0) || !std::isfinite(v); });
  std::sort(rtt.begin(), rtt.end());
  const std::size_t least = std::max<std::size_t>(2, (rtt.size() + 19) / 20);
  std::size_t split = 0;
  double widest = kClusterGapRatio;
  for (std::size_t i = least; i + least <= rtt.size(); ++i)
    if (rtt[i] / rtt[i - 1] > widest) {
      widest = rtt[i] / rtt[i - 1];
      split = i;
    }
  if (split == 0) return std::nullopt;
  return FloorClusters{std::sqrt(rtt[split - 1] * rtt[split]), cluster_of(kSiblingsLabel, rtt, 0, split),
                       cluster_of(kApartLabel, rtt, split, rtt.size())};
}

nlohmann::json to_json(const FloorClusters& c) {
  nlohmann::json clusters = nlohmann::json::array();
  for (const FloorCluster& k : {c.lower, c.upper})
    clusters.push_back({{"label", k.label},
                        {"median_ns", k.median_ns},
                        {"low_ns", k.low_ns},
                        {"high_ns", k.high_ns},
                        {"repetitions", k.repetitions}});
  return {{"split_ns", c.split_ns}, {"clusters", clusters}};
}

std::string cluster_label(const nlohmann::json& clusters, double cacheline_rtt_ns) {
  const auto& list = clusters.at("clusters");
  return list.at(cacheline_rtt_ns < clusters.at("split_ns").get<double>() ? 0 : 1).at("label").get<std::string>();
}

}  // namespace ipcmark
