#include "wubd/core/hour_files.h"

#include <gtest/gtest.h>

namespace wubd::core {
namespace hour_files_test {

const char* kHash = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
const Micros kHour = *parse_hour("2026-11-21T04");

std::string segment(const char* time, const char* type = "full") {
  return std::string(time) + "-2.0-" + type + "-" + kHash + ".ts";
}
std::string batch(const char* time) { return std::string(time) + "-" + kHash + ".json"; }

TEST(HourFiles, ChatBatchNamesAsTheChatArchiverWritesThem) {
  auto parsed = parse_chat_batch_name(kHour, batch("12:34"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->start, kHour + (12 * 60 + 34) * kMicrosPerSecond);
  EXPECT_EQ(parsed->hash, kHash);
  for (std::string bad : {std::string("12:34-") + kHash + ".ts", std::string("12:60-") + kHash + ".json",
                          std::string("1:34-") + kHash + ".json", std::string("12:34_") + kHash + ".json",
                          std::string("12:34-abc.json"), std::string("12:34-.json"), std::string(".json")}) {
    auto result = parse_chat_batch_name(kHour, bad);
    ASSERT_FALSE(result) << bad;
    EXPECT_NE(result.error().message.find("bad chat batch name"), std::string::npos) << bad;
  }
}

TEST(HourFiles, StemsAndTombstoneNamesFollowPythonsSplitext) {
  EXPECT_EQ(file_stem(segment("00:00.000")), segment("00:00.000").substr(0, segment("00:00.000").size() - 3));
  EXPECT_EQ(file_stem("a.b.json"), "a.b");
  EXPECT_EQ(file_stem("noext"), "noext");
  EXPECT_EQ(file_stem(".hidden"), ".hidden");
  EXPECT_EQ(tombstone_name(batch("00:01")), std::string("00:01-") + kHash + ".tombstone");
  EXPECT_TRUE(is_tombstone_name("x.tombstone"));
  EXPECT_FALSE(is_tombstone_name(".tombstone"));
  EXPECT_FALSE(is_tombstone_name("x.tombstone.ts"));
}

TEST(HourFiles, ATombstoneHidesItsFileAndBadNamesAreRejectedWithAReason) {
  std::vector<std::string> names = {segment("00:00.000"),
                                    segment("00:02.000"),
                                    tombstone_name(segment("00:02.000")),
                                    segment("00:04.000", "temp"),
                                    batch("00:00"),
                                    batch("01:00"),
                                    tombstone_name(batch("01:00")),
                                    tombstone_name(segment("00:06.000")),  // a tombstone alone still counts
                                    batch("02:00") + "." + "0b1c2d3e-0000-4000-8000-000000000000.temp",
                                    "README.txt",
                                    "bad.json"};
  std::string text = join_names(names);
  HourFiles files = sort_hour_files("2026-11-21T04", kHour, text);
  ASSERT_EQ(files.segments.size(), 2u);
  EXPECT_EQ(files.segments[0].file_name, segment("00:00.000"));
  EXPECT_EQ(files.segments[1].name.type, SegmentType::Temp);
  EXPECT_EQ(files.segments[0].hour, "2026-11-21T04");
  EXPECT_EQ(std::vector<std::string>(files.chat_batches.begin(), files.chat_batches.end()),
            std::vector<std::string>{batch("00:00")});
  EXPECT_EQ(std::vector<std::string>(files.tombstones.begin(), files.tombstones.end()),
            (std::vector<std::string>{tombstone_name(segment("00:02.000")), tombstone_name(segment("00:06.000")),
                                      tombstone_name(batch("01:00"))}));
  ASSERT_EQ(files.rejected.size(), 2u);  // the wubloader-style temp file is not yet a file: skipped quietly
  EXPECT_EQ(files.rejected[0].first, "README.txt");
  EXPECT_EQ(files.rejected[1].first, "bad.json");
  EXPECT_NE(files.rejected[1].second.find("chat batch"), std::string::npos);
}

}  // namespace hour_files_test
}  // namespace wubd::core

namespace wubd::core {
namespace hour_files_test {

// Every reader of an hour directory (the store's listings, the backfiller's copy plan)
// judges a name the same way.
TEST(HourFiles, EachNameIsOneKindForEveryReader) {
  HourFile full = classify_hour_file(kHour, segment("01:02.5"));
  EXPECT_EQ(full.kind, HourFileKind::Segment);
  EXPECT_EQ(full.segment.type, SegmentType::Full);
  EXPECT_EQ(full.segment.start, kHour + 62'500'000);
  HourFile downloading = classify_hour_file(kHour, segment("01:04", "temp"));
  EXPECT_EQ(downloading.kind, HourFileKind::Segment);
  EXPECT_EQ(downloading.segment.type, SegmentType::Temp);
  EXPECT_EQ(classify_hour_file(kHour, batch("12:34")).kind, HourFileKind::ChatBatch);
  EXPECT_EQ(classify_hour_file(kHour, "12:34-x.tombstone").kind, HourFileKind::Tombstone);
  EXPECT_EQ(classify_hour_file(kHour, batch("12:34") + ".3f2a-uuid.temp").kind, HourFileKind::WritingTemp);
  HourFile junk = classify_hour_file(kHour, "junk.ts");
  EXPECT_EQ(junk.kind, HourFileKind::Bad);
  EXPECT_NE(junk.reason.find("junk.ts"), std::string::npos) << junk.reason;
  HourFile bad_batch = classify_hour_file(kHour, "notes.json");
  EXPECT_EQ(bad_batch.kind, HourFileKind::Bad);
  EXPECT_NE(bad_batch.reason.find("bad chat batch name"), std::string::npos) << bad_batch.reason;
}

TEST(HourNames, AreOneTextThatSplitsBackIntoTheNames) {
  std::vector<std::string> names = {"00:00.000-2.0-full-AAAA.ts", "00:02.000-2.0-full-AAAB.ts"};
  std::string text = join_names(names);
  EXPECT_EQ(text, "00:00.000-2.0-full-AAAA.ts\n00:02.000-2.0-full-AAAB.ts\n");
  EXPECT_EQ(split_names(text), (std::vector<std::string_view>{names[0], names[1]}));
  EXPECT_EQ(count_names(text), 2u);
  EXPECT_TRUE(split_names("").empty());
  EXPECT_EQ(count_names(""), 0u);
}

TEST(HourNames, ChangesAreMergedWhereTheirNamesSort) {
  std::string text = join_names({"b", "d", "f"});
  EXPECT_EQ(merge_names(text, {{"a", true}, {"c", true}, {"g", true}}), "a\nb\nc\nd\nf\ng\n");
  EXPECT_EQ(merge_names(text, {{"b", false}, {"f", false}}), "d\n");
  // A name's last word is what counts: there twice is there once, gone when absent is nothing.
  EXPECT_EQ(merge_names(text, {{"d", true}, {"e", false}}), "b\nd\nf\n");
  EXPECT_EQ(merge_names("", {{"x", true}, {"y", false}}), "x\n");
  EXPECT_EQ(merge_names(text, {}), text);
}

TEST(HourNames, ANameWithALineBreakIsLeftOut) {
  // It would read back as two names, one of which might look like a segment.
  std::string text = join_names({"a", "b\n00:00.000000-2.0-full-AAAA.ts", "c"});
  EXPECT_EQ(text, "a\nc\n");
  EXPECT_EQ(merge_names(text, {{"b\n00:02.000000-2.0-full-AAAA.ts", true}}), "a\nc\n");
}

TEST(HourNames, AListingViewsItsNamesAndAsksSizesOnlyWhereCopiesCompete) {
  Micros hour = *parse_hour("2026-11-21T04");
  std::vector<std::string> names = {"00:00.000-2.0-full-AAAA.ts", "00:02.000-2.0-full-AAAA.ts",
                                    "00:02.000-2.0-full-AAAB.ts", "00:04.000-2.0-partial-AAAA.ts",
                                    "00:06.000-2.0-full-AAAA.ts", "not a segment"};
  std::vector<std::string> asked;
  auto size_of = [&](std::string_view name) -> std::int64_t {
    asked.emplace_back(name);
    return name == names[3] ? -1 : 100;  // the partial one vanished since the names were read
  };
  std::vector<std::pair<std::string, std::string>> rejected;
  auto listing = make_hour_listing("2026-11-21T04", hour, std::make_shared<const std::string>(join_names(names)),
                                   size_of, rejected);
  EXPECT_EQ(asked, (std::vector<std::string>{names[1], names[2], names[3]}));
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].first, "not a segment");
  ASSERT_EQ(listing->segments.size(), 4u);
  ASSERT_EQ(listing->best.size(), 3u);
  EXPECT_EQ(listing->best[1]->file_name, names[2]) << "the higher hash of two equal full copies";
  EXPECT_EQ(listing->best[2]->file_name, names[4]);
  for (const StoredSegment& s : listing->segments) {
    EXPECT_EQ(s.hour, "2026-11-21T04");
    // Views into the listing's own text and hour, not copies.
    EXPECT_TRUE(s.file_name.data() >= listing->names_text->data() &&
                s.file_name.data() < listing->names_text->data() + listing->names_text->size());
    EXPECT_EQ(s.hour.data(), listing->hour.data());
  }
}

}  // namespace hour_files_test
}  // namespace wubd::core
