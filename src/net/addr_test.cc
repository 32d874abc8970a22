#include "net/addr.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

TEST(IpAddr, ParsesAndPrintsBothFamilies) {
  Result<IpAddr> v4 = IpAddr::Parse("172.18.0.2");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "172.18.0.2");
  EXPECT_EQ(*v4, IpAddr::V4(172, 18, 0, 2));
  Result<IpAddr> v6 = IpAddr::Parse("FD00:0::1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->ToString(), "fd00::1");
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "::g", "[::1]", "1.2.3.4:80", " 1.2.3.4",
                          "1.2.3.4/24", "0000000000000000000000000000000000000000000000000"}) {
    EXPECT_FALSE(IpAddr::Parse(bad)) << bad;
  }
}

TEST(IpAddr, OffsetCarriesAndWraps) {
  EXPECT_EQ(IpAddr::V4(10, 0, 0, 255).Offset(1).ToString(), "10.0.1.0");
  EXPECT_EQ(IpAddr::V4(10, 0, 1, 0).Offset(-1).ToString(), "10.0.0.255");
  EXPECT_EQ(IpAddr::V4(255, 255, 255, 255).Offset(1).ToString(), "0.0.0.0");
  EXPECT_EQ(IpAddr::V4(10, 0, 0, 0).Offset(65536 + 2).ToString(), "10.1.0.2");
  EXPECT_EQ(IpAddr::Parse("fd00::ffff").value().Offset(1).ToString(), "fd00::1:0");
  EXPECT_EQ(IpAddr::Parse("fd00::1:0").value().Offset(-1).ToString(), "fd00::ffff");
  EXPECT_TRUE(IpAddr::V4(127, 0, 0, 11).IsLoopback());
  EXPECT_TRUE(IpAddr::Parse("::1").value().IsLoopback());
  EXPECT_FALSE(IpAddr::Parse("::2").value().IsLoopback());
}

TEST(IpPrefix, NetworkContainsOverlaps) {
  IpPrefix p = IpPrefix::Parse("172.18.3.4/16").value();
  EXPECT_EQ(p.ToString(), "172.18.3.4/16");
  EXPECT_EQ(p.Network().ToString(), "172.18.0.0/16");
  EXPECT_EQ(p.Last().ToString(), "172.18.255.255");
  EXPECT_TRUE(p.Contains(IpAddr::V4(172, 18, 200, 1)));
  EXPECT_FALSE(p.Contains(IpAddr::V4(172, 19, 0, 1)));
  EXPECT_FALSE(p.Contains(IpAddr::Parse("::1").value()));
  EXPECT_TRUE(p.Overlaps(IpPrefix::Parse("172.0.0.0/8").value()));
  EXPECT_TRUE(IpPrefix::Parse("172.0.0.0/8").value().Overlaps(p));
  EXPECT_FALSE(p.Overlaps(IpPrefix::Parse("172.19.0.0/16").value()));
  EXPECT_EQ(IpPrefix::Parse("10.0.0.1").value().len, 32);
  EXPECT_EQ(IpPrefix::Parse("fd00:1::5/64").value().Network().ToString(), "fd00:1::/64");
  EXPECT_EQ(IpPrefix::Parse("0.0.0.0/0").value().Last().ToString(), "255.255.255.255");
  EXPECT_EQ(IpPrefix::Parse("10.1.2.3/23").value().Network().ToString(), "10.1.2.0/23");
  for (const char* bad :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/1x", "::/129", "/8", "x/8"}) {
    EXPECT_FALSE(IpPrefix::Parse(bad)) << bad;
  }
}

TEST(Mac, ParsePrintAndDockersForm) {
  auto mac = ParseMac("02:42:AC:11:00:02");
  ASSERT_TRUE(mac);
  EXPECT_EQ(MacToString(*mac), "02:42:ac:11:00:02");
  EXPECT_EQ(MacToString(MacForIp(IpAddr::V4(172, 17, 0, 2))), "02:42:ac:11:00:02");
  for (const char* bad : {"", "02:42:ac:11:00", "02-42-ac-11-00-02", "02:42:ac:11:00:0g",
                          "02:42:ac:11:00:022", "+2:42:ac:11:00:02"}) {
    EXPECT_FALSE(ParseMac(bad)) << bad;
  }
}

}  // namespace
}  // namespace berth::net
