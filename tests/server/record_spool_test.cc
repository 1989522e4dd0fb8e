// The import's spool (server/csv/record_spool.h): records come back in order, by batches, from several threads
// at once, whatever their size, and leave no file behind.
#include "server/csv/record_spool.h"

#include <dirent.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace habilis::csv {
namespace {

std::vector<std::string> Batch(const RecordSpool& spool, size_t batch) {
  std::vector<std::string> records;
  absl::Status read = spool.ReadBatch(batch, [&](absl::string_view record) {
    records.emplace_back(record);
    return absl::OkStatus();
  });
  EXPECT_TRUE(read.ok()) << read;
  return records;
}

int EntriesIn(const char* dir) {
  int count = 0;
  DIR* d = opendir(dir);
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) ++count;
  closedir(d);
  return count;
}

TEST(RecordSpoolTest, RecordsComeBackInOrderByBatchesFromSeveralThreads) {
  absl::StatusOr<std::unique_ptr<RecordSpool>> spool = RecordSpool::Create(100);
  ASSERT_TRUE(spool.ok()) << spool.status();
  std::vector<std::string> written;
  for (int i = 0; i < 1050; ++i) {
    // Empty records, records with NUL bytes, and records larger than the write buffer.
    std::string record = i % 7 == 0 ? "" : absl::StrCat("record ", i, std::string(1, '\0'), "end");
    if (i == 500) record = std::string(3 << 20, 'x');
    written.push_back(record);
    ASSERT_TRUE((*spool)->Append(record).ok());
  }
  ASSERT_TRUE((*spool)->Seal().ok());
  EXPECT_EQ((*spool)->records(), 1050u);
  ASSERT_EQ((*spool)->batches(), 11u);
  std::vector<std::vector<std::string>> batches(11);
  std::thread other([&] {
    for (size_t b = 1; b < 11; b += 2) batches[b] = Batch(**spool, b);
  });
  for (size_t b = 0; b < 11; b += 2) batches[b] = Batch(**spool, b);
  other.join();
  std::vector<std::string> read;
  for (const auto& batch : batches) read.insert(read.end(), batch.begin(), batch.end());
  EXPECT_EQ(read, written);
  EXPECT_EQ(batches[10].size(), 50u);
  EXPECT_EQ((*spool)->ReadBatch(11, [](absl::string_view) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(RecordSpoolTest, TheFileHasNoNameAndVanishesWithTheSpool) {
  const std::string dir = ::testing::TempDir() + "spool-test";
  ASSERT_EQ(system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  const char* before = std::getenv("TMPDIR");
  const std::string saved = before == nullptr ? "" : before;
  setenv("TMPDIR", dir.c_str(), 1);
  {
    absl::StatusOr<std::unique_ptr<RecordSpool>> spool = RecordSpool::Create(10);
    ASSERT_TRUE(spool.ok()) << spool.status();
    ASSERT_TRUE((*spool)->Append("personal data").ok());
    ASSERT_TRUE((*spool)->Seal().ok());
    EXPECT_EQ(EntriesIn(dir.c_str()), 2) << "only . and ..: nothing another process could open";
  }
  if (before == nullptr) {
    unsetenv("TMPDIR");
  } else {
    setenv("TMPDIR", saved.c_str(), 1);
  }
  EXPECT_EQ(EntriesIn(dir.c_str()), 2);
}

}  // namespace
}  // namespace habilis::csv
