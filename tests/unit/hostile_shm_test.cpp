// Hostile shared memory: another process writes garbage and crafted values into a ring while this
// process reads it. Whatever it writes, the reader ends with Errc::Corrupt ("corrupt region ...")
// within its deadline: never a crash, a hang, or an access outside the mapping.
//
// The ring sits in a MAP_SHARED mapping whose last byte is followed by a PROT_NONE guard page
// (and preceded, one partial page earlier, by another), so reading or writing past its end
// faults; the reader's buffer is exactly max_message bytes on the heap, so the asan preset's
// AddressSanitizer catches any overrun there. The hostile side is a forked child: first an
// honest writer (so the reader is live and has consumed real messages), then the attack.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "transports/shm/region.hpp"
#include "transports/shm/shm.hpp"
#include "transports/shm/spsc_ring.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kCapacity = 64 * 1024;
constexpr std::uint32_t kMaxMessage = 1000;
constexpr int kHonestMessages = 200;  // ~100 KiB: more than the ring, so the reader must keep up

class GuardedRing {
 public:
  GuardedRing() {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t bytes = ring_bytes(kCapacity);
    const std::size_t pages = (bytes + page - 1) / page;
    length_ = (pages + 2) * page;
    void* p = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap");
    base_ = static_cast<std::byte*>(p);
    ::mprotect(base_, page, PROT_NONE);
    ::mprotect(base_ + (pages + 1) * page, page, PROT_NONE);
    // End flush against the trailing guard page; 128-aligned since the page and 384 + capacity are.
    ring_ = std::span(base_ + (pages + 1) * page - bytes, bytes);
    initialise_ring(ring_, RingParams{kCapacity, kMaxMessage});
  }
  ~GuardedRing() { ::munmap(base_, length_); }
  std::span<std::byte> span() const { return ring_; }
  RingHeader& header() const { return ring_header(ring_); }
  std::uint64_t& tail() const { return reinterpret_cast<WriterBlock*>(ring_.data() + RingOffsets::writer)->tail; }
  std::uint64_t& head() const { return reinterpret_cast<ReaderBlock*>(ring_.data() + RingOffsets::reader)->head; }
  std::byte* data() const { return ring_.data() + RingOffsets::data; }

 private:
  std::byte* base_ = nullptr;
  std::size_t length_ = 0;
  std::span<std::byte> ring_;
};

std::byte pattern_byte(int message, std::size_t i) { return static_cast<std::byte>((message * 31 + i) & 0xff); }
std::size_t honest_length(int message) { return 1 + (static_cast<std::size_t>(message) * 397) % kMaxMessage; }

// What the hostile process does after its honest messages: gets the ring and its own tail.
struct Attack {
  const char* name;
  std::function<void(GuardedRing&, std::uint64_t tail)> run;
  bool before_attach = false;  // header attacks: the reader attaches after them
};

// Waits until the reader has consumed every honest message, so each attack is on a live reader
// that is waiting for more, and every honest message must have arrived intact.
void wait_until_drained(GuardedRing& ring, std::uint64_t tail) {
  while (std::atomic_ref(ring.head()).load(std::memory_order_acquire) != tail) std::this_thread::yield();
}

// Publishes a crafted record header where the reader waits for the next one (release, as the
// honest writer does: the header is the publication).
void put_record(GuardedRing& ring, std::uint64_t tail, std::uint32_t length, std::uint32_t kind) {
  wait_until_drained(ring, tail);
  const RecordHeader record{length, kind};
  auto* word = reinterpret_cast<std::uint64_t*>(ring.data() + (tail & (kCapacity - 1)));
  std::atomic_ref(*word).store(std::bit_cast<std::uint64_t>(record), std::memory_order_release);
}

// Honest-looking records of the largest size until fewer than one such record's bytes are left
// before the wrap point; returns the new tail. The reader takes them as messages.
std::uint64_t fill_to_near_the_wrap(GuardedRing& ring, std::uint64_t tail) {
  const std::uint64_t record = record_bytes(kMaxMessage);
  while (kCapacity - (tail & (kCapacity - 1)) >= record) {
    wait_until_drained(ring, tail);
    std::memset(ring.data() + (tail & (kCapacity - 1)) + sizeof(RecordHeader), 0, kMaxMessage);
    auto* end_mark = reinterpret_cast<std::uint64_t*>(ring.data() + ((tail + record) & (kCapacity - 1)));
    std::atomic_ref(*end_mark).store(0, std::memory_order_relaxed);
    put_record(ring, tail, kMaxMessage, static_cast<std::uint32_t>(RecordKind::Data));
    tail += record;
  }
  return tail;
}

const Attack kAttacks[] = {
    {"RandomBytesEverywhere",
     [](GuardedRing& ring, std::uint64_t) {
       std::mt19937_64 random(42);
       const auto end = std::chrono::steady_clock::now() + 5s;
       while (std::chrono::steady_clock::now() < end) {
         const std::uint64_t value = random();
         const std::size_t at = (random() % (ring.span().size() / 8)) * 8;
         std::memcpy(ring.span().data() + at, &value, sizeof value);
       }
     }},
    {"HugeLength",
     [](GuardedRing& ring, std::uint64_t tail) {
       put_record(ring, tail, 0xffff'fff0u, static_cast<std::uint32_t>(RecordKind::Data));
     }},
    {"LengthAboveMaxMessage",
     [](GuardedRing& ring, std::uint64_t tail) {
       put_record(ring, tail, kMaxMessage + 1, static_cast<std::uint32_t>(RecordKind::Data));
     }},
    {"RecordAcrossTheWrapPoint",
     [](GuardedRing& ring, std::uint64_t tail) {
       put_record(ring, fill_to_near_the_wrap(ring, tail), kMaxMessage, static_cast<std::uint32_t>(RecordKind::Data));
     }},
    {"ZeroLength",
     [](GuardedRing& ring, std::uint64_t tail) { put_record(ring, tail, 0, static_cast<std::uint32_t>(RecordKind::Data)); }},
    {"UnknownRecordKind", [](GuardedRing& ring, std::uint64_t tail) { put_record(ring, tail, 8, 7); }},
    {"PaddingThatDoesNotEndAtTheWrapPoint",
     [](GuardedRing& ring, std::uint64_t tail) {
       put_record(ring, tail, 8, static_cast<std::uint32_t>(RecordKind::Padding));
     }},
    {"WrongMagic", [](GuardedRing& ring, std::uint64_t) { ring.header().magic = 0x0123456789abcdef; }, true},
    {"WrongVersion", [](GuardedRing& ring, std::uint64_t) { ring.header().version = kRingVersion + 1; }, true},
    {"CapacityLargerThanTheMapping",
     [](GuardedRing& ring, std::uint64_t) { ring.header().capacity = kCapacity * 2; }, true},
    {"MaxMessageLargerThanHalfTheRing",
     [](GuardedRing& ring, std::uint64_t) { ring.header().max_message = kCapacity; }, true},
};

void PrintTo(const Attack& attack, std::ostream* os) { *os << attack.name; }

class HostileShm : public ::testing::TestWithParam<Attack> {};

// The honest part: kHonestMessages messages, then the attack, then wait to be killed.
[[noreturn]] void hostile_process(GuardedRing& ring, const Attack& attack, int ready_fd) {
  try {
    RingWriter writer(ring.span(), "hostile");
    std::vector<std::byte> message(kMaxMessage);
    const auto deadline = Clock::now() + 20s;
    if (!attack.before_attach)
      for (int m = 0; m < kHonestMessages; ++m) {
        const std::size_t length = honest_length(m);
        for (std::size_t i = 0; i < length; ++i) message[i] = pattern_byte(m, i);
        writer.send<SpinWait>(std::span(message).first(length), deadline);
      }
    attack.run(ring, std::atomic_ref(ring.tail()).load(std::memory_order_acquire));
    const char done = 1;
    if (::write(ready_fd, &done, 1) != 1) ::_exit(3);
  } catch (...) {
    ::_exit(2);
  }
  ::pause();
  ::_exit(0);
}

TEST_P(HostileShm, ReaderReportsCorruptRegionAndStops) {
  const Attack& attack = GetParam();
  GuardedRing ring;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) hostile_process(ring, attack, ready[1]);
  ::close(ready[1]);
  struct Reap {
    pid_t pid;
    int fd;
    ~Reap() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(fd);
    }
  } reap{child, ready[0]};

  if (attack.before_attach) {
    char done = 0;
    ASSERT_EQ(::read(ready[0], &done, 1), 1) << "the hostile process failed before its attack";
  }
  int intact = 0;
  std::string error;
  Errc code = Errc::System;
  const auto started = Clock::now();
  try {
    RingReader reader(ring.span(), "hostile");
    std::vector<std::byte> out(reader.max_message());  // exactly: ASan sees any overrun
    const Deadline deadline = Clock::now() + 10s;
    for (;;) {
      // Block waits in every other attack, so sleeping on a scribbled futex word is covered too.
      const std::size_t n = (intact % 2 == 0) ? reader.receive<BlockWait>(out, deadline, Peer{child, nullptr})
                                              : reader.receive<SpinWait>(out, deadline, Peer{child, nullptr});
      ASSERT_LE(n, out.size());
      if (intact < kHonestMessages && n == honest_length(intact)) {
        bool same = true;
        for (std::size_t i = 0; i < n; ++i) same = same && out[i] == pattern_byte(intact, i);
        if (same) ++intact;
      }
    }
  } catch (const Error& e) {
    error = e.what();
    code = e.code();
  }
  EXPECT_EQ(code, Errc::Corrupt) << error;
  EXPECT_EQ(error.rfind("corrupt region 'hostile': ", 0), 0u) << error;
  EXPECT_LT(Clock::now() - started, 10s) << "must stop at the corruption, not at the deadline";
  if (std::string(attack.name) != "RandomBytesEverywhere" && !attack.before_attach) {
    EXPECT_EQ(intact, kHonestMessages) << "every honest message before the attack arrives intact";
  }
}

INSTANTIATE_TEST_SUITE_P(Attacks, HostileShm, ::testing::ValuesIn(kAttacks),
                         [](const ::testing::TestParamInfo<Attack>& info) { return std::string(info.param.name); });

// The same through the real shm transport: a server process that turns hostile after serving
// honestly. The client's receive() reports the corrupt region and nothing is left behind.
TEST(HostileShmChannel, ClientOfAServerThatScribblesItsRingGetsCorruptRegion) {
  const std::string channel = "ipcmark-" + std::to_string(::getpid()) + "-hostile";
  const Transport& shm = shm_transport();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto server = shm.channel.serve(ChannelConfig{channel, 64, WaitKind::Block});
      const char go = 1;
      if (::write(ready[1], &go, 1) != 1) ::_exit(3);
      server->accept(Clock::now() + 10s);
      std::vector<std::byte> message(64, std::byte{7});
      for (int i = 0; i < 10; ++i) server->send(message, Clock::now() + 10s);
      // Turn hostile: the server→client ring is the first half of the region; publish a header
      // of an unknown kind where the client waits for the 11th record.
      SharedRegion region = SharedRegion::open(channel, SharedRegion::largest_possible());
      auto* header = reinterpret_cast<std::uint64_t*>(region.bytes().data() + RingOffsets::data + 10 * record_bytes(64));
      std::atomic_ref(*header).store(0xdead'beef'dead'bee8, std::memory_order_release);
      ::pause();
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char go = 0;
  ASSERT_EQ(::read(ready[0], &go, 1), 1);
  ::close(ready[0]);

  std::string error;
  Errc code = Errc::System;
  int received = 0;
  try {
    auto client = shm.channel.connect(ChannelConfig{channel, 64, WaitKind::Block});
    client->accept(Clock::now() + 10s);
    std::vector<std::byte> buffer(64);
    for (;;) {
      client->receive(buffer, Clock::now() + 10s);
      ++received;
    }
  } catch (const Error& e) {
    error = e.what();
    code = e.code();
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  shm.channel.remove(channel);
  EXPECT_EQ(code, Errc::Corrupt) << error;
  EXPECT_EQ(error.rfind("corrupt region '" + channel + "': ", 0), 0u) << error;
  EXPECT_LE(received, 10);
  EXPECT_FALSE(::access(("/dev/shm/" + channel).c_str(), F_OK) == 0);
}

}  // namespace
}  // namespace ipcmark::shm
