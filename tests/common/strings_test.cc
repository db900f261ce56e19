#include "common/strings.h"

#include <catch2/catch.hpp>

using namespace slipway;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("memory_gib", "memroy_gib") == 1);
  CHECK(EditDistance("prod", "prdo") == 1);
  CHECK(EditDistance("ab", "") == 2);
  CHECK(EditDistance("kitten", "sitting") == 3);
}

TEST_CASE("did-you-mean suggests only close names") {
  std::vector<std::string> known = {"memory_gib", "vcpus", "os_disk_gib"};
  CHECK(DidYouMean("memroy_gib", known) == std::optional<std::string>("memory_gib"));
  CHECK(DidYouMean("vcpu", known) == std::optional<std::string>("vcpus"));
  CHECK_FALSE(DidYouMean("colour", known).has_value());
  CHECK(DidYouMeanSuffix("vcpu", known) == " (did you mean 'vcpus'?)");
}

TEST_CASE("DNS-1123 labels explain what is wrong") {
  CHECK(IsDns1123Label("prod-1"));
  CHECK(Dns1123Problem("Prod") == "must be lower case");
  CHECK(Dns1123Problem("-prod") == "must start and end with a letter or digit");
  CHECK(Dns1123Problem("a_b") == "contains '_'; only a-z, 0-9 and '-' are allowed");
  CHECK(Dns1123Problem(std::string(64, 'a')) == "is 64 characters long; at most 63 are allowed");
  CHECK(Dns1123Problem("") == "must not be empty");
}

TEST_CASE("sizes print in binary units") {
  CHECK(FormatBytes(512) == "512 B");
  CHECK(FormatBytes(1536) == "1.5 KiB");
  CHECK(FormatBytes(64ull << 30) == "64 GiB");
  CHECK(FormatBytes(200ull << 30) == "200 GiB");
}

TEST_CASE("quote lists join with commas and a final word") {
  CHECK(QuoteList({"a"}) == "'a'");
  CHECK(QuoteList({"a", "b", "c"}) == "'a', 'b' or 'c'");
  CHECK(Split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
}
