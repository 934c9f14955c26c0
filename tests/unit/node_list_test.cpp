#include "wubd/core/node_list.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace node_list_test {

TEST(NodeList, WubloadersNodeFileAndBareUrls) {
  // The shape of wubloader's --node-file: NAME URL, or a URL alone; # comments.
  std::string text =
      "# our cluster\n"
      "alpha http://10.0.0.1:8000\n"
      "\n"
      "   \t\n"
      "http://10.0.0.2:8000/\n"
      "  beta\thttp://10.0.0.3:8000  trailing words are ignored\r\n"
      "#gamma http://10.0.0.4:8000\n"
      "delta http://10.0.0.5:8000";  // no final newline
  std::vector<NodeLine> nodes = parse_node_lines(text);
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_EQ(nodes[0].name, "alpha");
  EXPECT_EQ(nodes[0].url, "http://10.0.0.1:8000");
  EXPECT_EQ(nodes[0].line, 2);
  EXPECT_EQ(nodes[1].name, "");
  EXPECT_EQ(nodes[1].url, "http://10.0.0.2:8000/");
  EXPECT_EQ(nodes[2].name, "beta");
  EXPECT_EQ(nodes[2].url, "http://10.0.0.3:8000");
  EXPECT_EQ(nodes[3].name, "delta");
  EXPECT_EQ(nodes[3].line, 8);
  EXPECT_TRUE(parse_node_lines("").empty());
  EXPECT_TRUE(parse_node_lines("# only\n\n").empty());
}

}  // namespace node_list_test
}  // namespace wubd::core
