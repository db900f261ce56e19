#include "common/net.h"

#include <catch2/catch.hpp>

using namespace slipway;

TEST_CASE("IPv4 parsing refuses malformed addresses with a reason") {
  std::string why;
  REQUIRE(ParseIpv4("10.0.0.1", &why)->ToString() == "10.0.0.1");
  CHECK_FALSE(ParseIpv4("10.0.0", &why));
  CHECK(why == "'10.0.0' is not an IPv4 address (expected four numbers like 10.0.0.1)");
  CHECK_FALSE(ParseIpv4("10.0.0.256", &why));
  CHECK(why == "'10.0.0.256' is not an IPv4 address ('256' is not a number from 0 to 255)");
  CHECK_FALSE(ParseIpv4("10.0.0.01", &why));
}

TEST_CASE("CIDRs must have zero host bits and the fix is suggested") {
  std::string why;
  auto c = ParseCidr("10.244.0.0/16", &why);
  REQUIRE(c);
  CHECK(c->Range().ToString() == "10.244.0.0-10.244.255.255");
  CHECK_FALSE(ParseCidr("10.244.1.0/16", &why));
  CHECK(why == "'10.244.1.0/16' has host bits set (did you mean '10.244.0.0/16'?)");
  CHECK_FALSE(ParseCidr("10.0.0.0/33", &why));
  REQUIRE(ParseCidr("0.0.0.0/0", &why));
  CHECK(ParseCidr("0.0.0.0/0", &why)->Range().Size() == (uint64_t{1} << 32));
}

TEST_CASE("ranges parse, contain and overlap") {
  std::string why;
  auto a = ParseIpRange("10.0.0.10-10.0.0.20", &why);
  auto b = ParseIpRange("10.0.0.20-10.0.0.30", &why);
  auto c = ParseIpRange("10.0.0.21", &why);
  REQUIRE((a && b && c));
  CHECK(a->Size() == 11);
  CHECK(a->Overlaps(*b));
  CHECK_FALSE(a->Overlaps(*c));
  CHECK(b->Contains(*c));
  CHECK_FALSE(ParseIpRange("10.0.0.9-10.0.0.1", &why));
  CHECK(why == "range '10.0.0.9-10.0.0.1' ends before it starts");
}

TEST_CASE("MAC addresses parse in either separator and print lower case") {
  std::string why;
  auto m = ParseMac("52-54-00-AB-cd-01", &why);
  REQUIRE(m);
  CHECK(FormatMac(*m) == "52:54:00:ab:cd:01");
  CHECK_FALSE(ParseMac("52:54:00:ab:cd", &why));
  CHECK_FALSE(ParseMac("52:54:00:ab:cd:zz", &why));
}
