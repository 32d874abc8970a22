#include "cli/format/template.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

nlohmann::json Data() {
  return nlohmann::json::parse(
      R"({"Repository":"busybox","Tag":"latest","Size":1234,"Server":{"Version":"0.1.0"},
          "Labels":{"a":"b"},"List":["x","y"],"Ok":true})");
}

std::string Render(std::string_view t) {
  auto tpl = Template::Parse(t);
  EXPECT_TRUE(tpl) << t;
  auto out = tpl->Execute(Data());
  EXPECT_TRUE(out) << t;
  return out ? *out : "";
}

TEST(TemplateTest, FieldsJsonAndText) {
  EXPECT_EQ(Render("{{.Repository}}:{{.Tag}}"), "busybox:latest");
  EXPECT_EQ(Render("{{.Server.Version}}"), "0.1.0");
  EXPECT_EQ(Render("{{json .Labels}}"), R"({"a":"b"})");
  EXPECT_EQ(Render("{{.Labels | json}}"), R"({"a":"b"})");
  EXPECT_EQ(Render("{{.Size}} {{.Ok}} {{.List}} {{.Labels}}"), "1234 true [x y] map[a:b]");
  EXPECT_EQ(Render("{{upper .Tag}}\\t{{lower .Repository}}\\n"), "LATEST\tbusybox\n");
  EXPECT_EQ(Render("plain"), "plain");
}

TEST(TemplateTest, FunctionsAndBlocks) {
  EXPECT_EQ(Render("{{index .Labels \"a\"}}|{{join .List \", \"}}|{{len .List}}"), "b|x, y|2");
  EXPECT_EQ(Render("{{range .List}}<{{.}}>{{end}}"), "<x><y>");
  EXPECT_EQ(Render("{{range $.List}}{{$.Tag}}{{end}}"), "latestlatest");
  EXPECT_EQ(Render("{{if .Ok}}yes{{else}}no{{end}}"), "yes");
  EXPECT_EQ(Render("{{if eq .Tag \"x\"}}x{{else if eq .Tag \"latest\"}}l{{else}}o{{end}}"), "l");
  EXPECT_EQ(Render("{{with .Server}}{{.Version}}{{end}}"), "0.1.0");
  EXPECT_EQ(Render("{{.Tag | upper}} {{title \"ab cd\"}} {{printf \"%s-%d\" .Tag .Size}}"),
            "LATEST Ab Cd latest-1234");
  EXPECT_EQ(Render("{{- .Tag -}}  x"), "latestx");
  auto t = Template::Parse("{{.Label \"a\"}}{{.Label \"zz\"}}!");
  ASSERT_TRUE(t);
  auto out = t->Execute(Data(), {{"Label", {{"a", "1"}}}});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "1!");
}

TEST(TemplateTest, Tables) {
  auto t = Template::Parse("table {{.Repository}}\t{{.Tag}}\t{{.CreatedSince}}");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->is_table());
  EXPECT_EQ(t->ExecuteHeader({}), "REPOSITORY\tTAG\tCREATED SINCE");
  EXPECT_EQ(t->ExecuteHeader({{"Repository", "REPO"}}), "REPO\tTAG\tCREATED SINCE");
}

TEST(TemplateTest, Errors) {
  EXPECT_FALSE(Template::Parse("{{.Repository"));
  EXPECT_FALSE(Template::Parse("{{frobnicate .X}}"));
  auto t = Template::Parse("{{.Nope}}");
  ASSERT_TRUE(t);
  auto out = t->Execute(Data());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message(), "template: can't evaluate field Nope");
}

}  // namespace
}  // namespace berth::cli
