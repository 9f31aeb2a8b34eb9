#include "transports/bip_mq/queue.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "transports/bip_mq/boost_layout.hpp"
#include "transports/bip_mq/queue_check.hpp"
#include "transports/names.hpp"
#include "transports/shm/region.hpp"

namespace ipcmark::bip_mq {
namespace {

static_assert(sizeof(bi::interprocess_mutex) == sizeof(pthread_mutex_t),
              "interprocess_mutex is expected to be exactly a pthread_mutex_t");
static_assert(sizeof(bi::interprocess_condition) == sizeof(pthread_cond_t),
              "interprocess_condition is expected to be exactly a pthread_cond_t");

std::string path_of(const std::string& name) { return "/dev/shm/" + name; }

struct Identity {
  dev_t device = 0;
  ino_t inode = 0;
  bool found = false;
};

Identity identity_of(const std::string& name) {
  const int fd = ::shm_open(("/" + name).c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return {};
  struct stat st {};
  const bool ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  return ok ? Identity{st.st_dev, st.st_ino, true} : Identity{};
}

void check(int err, const std::string& what) {
  if (err == 0) return;
  errno = err;
  throw_system_error(what);
}

// See queue.hpp: the queue's mutex and conditions, re-made while only we know the queue.
void remake_sync(const std::string& name, std::size_t size) {
  shm::SharedRegion region = shm::SharedRegion::open(name, size);
  if (region.size() != size) throw Error(Errc::Corrupt, "bip-mq queue " + path_of(name) + " changed size at creation");
  auto* header = reinterpret_cast<Header*>(region.bytes().data() + kUserOffset);
  const std::string what = "cannot set up the lock of bip-mq queue " + path_of(name);

  auto* mutex = reinterpret_cast<pthread_mutex_t*>(&header->m_mutex);
  pthread_mutexattr_t mutex_attr;
  ::pthread_mutexattr_init(&mutex_attr);
  ::pthread_mutexattr_setpshared(&mutex_attr, PTHREAD_PROCESS_SHARED);
  ::pthread_mutexattr_setrobust(&mutex_attr, PTHREAD_MUTEX_ROBUST);
  ::pthread_mutexattr_settype(&mutex_attr, PTHREAD_MUTEX_ERRORCHECK);
  ::pthread_mutex_destroy(mutex);
  const int mutex_err = ::pthread_mutex_init(mutex, &mutex_attr);
  ::pthread_mutexattr_destroy(&mutex_attr);
  check(mutex_err, what);

  pthread_condattr_t cond_attr;
  ::pthread_condattr_init(&cond_attr);
  ::pthread_condattr_setpshared(&cond_attr, PTHREAD_PROCESS_SHARED);
  ::pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
  int cond_err = 0;
  for (bi::interprocess_condition* condition : {&header->m_cond_recv, &header->m_cond_send}) {
    auto* cond = reinterpret_cast<pthread_cond_t*>(condition);
    ::pthread_cond_destroy(cond);
    if (cond_err == 0) cond_err = ::pthread_cond_init(cond, &cond_attr);
  }
  ::pthread_condattr_destroy(&cond_attr);
  check(cond_err, what);
}

}  // namespace

Queue Queue::create(const std::string& channel, const std::string& name, std::size_t max_message, std::size_t depth) {
  std::unique_ptr<BoostQueue> queue;
  try {
    queue = std::make_unique<BoostQueue>(bi::create_only, name.c_str(), depth, max_message, bi::permissions(0600));
  } catch (const bi::interprocess_exception& e) {
    if (e.get_error_code() == bi::already_exists_error) throw_channel_exists("bip-mq", channel, path_of(name));
    throw Error(Errc::System, "cannot create bip-mq queue " + path_of(name) + ": " + e.what());
  }
  // The name is ours from here on: take it back on any failure.
  try {
    remake_sync(name, layout_of(max_message, depth).total);
    const Identity id = identity_of(name);
    return Queue(name, std::move(queue), max_message, depth, /*owner=*/true, id.device, id.inode);
  } catch (...) {
    bi::message_queue::remove(name.c_str());
    throw;
  }
}

Queue Queue::open(const std::string& name, std::size_t max_bytes) {
  QueueShape shape{};
  {
    const shm::SharedRegion region = shm::SharedRegion::open(name, max_bytes);
    shape = check_queue(region.bytes(), name);
  }
  // Between the check and Boost's own open, only a process of our uid can swap the object
  // (the check refused any other owner and any mode but 0600).
  try {
    auto queue = std::make_unique<BoostQueue>(bi::open_only, name.c_str());
    if (queue->get_max_msg() != shape.depth || queue->get_max_msg_size() != shape.max_message)
      throw Error(Errc::Corrupt, "bip-mq queue " + path_of(name) + " changed while it was being opened");
    return Queue(name, std::move(queue), shape.max_message, shape.depth, /*owner=*/false, 0, 0);
  } catch (const bi::interprocess_exception& e) {
    if (e.get_error_code() == bi::not_found_error)
      throw Error(Errc::DoesNotExist, "bip-mq queue " + path_of(name) + " does not exist (is the server running?)");
    throw Error(Errc::System, "cannot open bip-mq queue " + path_of(name) + ": " + e.what());
  }
}

void Queue::remove(const std::string& name) { bi::message_queue::remove(name.c_str()); }

Queue::Queue(std::string name, std::unique_ptr<BoostQueue> queue, std::size_t max_message, std::size_t depth,
             bool owner, dev_t device, ino_t inode) noexcept
    : name_(std::move(name)),
      queue_(std::move(queue)),
      max_message_(max_message),
      depth_(depth),
      owner_(owner),
      device_(device),
      inode_(inode) {}

Queue::Queue(Queue&& other) noexcept
    : name_(std::move(other.name_)),
      queue_(std::move(other.queue_)),
      max_message_(other.max_message_),
      depth_(other.depth_),
      owner_(std::exchange(other.owner_, false)),
      device_(other.device_),
      inode_(other.inode_) {}

Queue::~Queue() {
  queue_.reset();
  if (!owner_) return;
  // After `clean` and a new server, the name is someone else's: leave theirs alone.
  const Identity id = identity_of(name_);
  if (id.found && id.device == device_ && id.inode == inode_) remove(name_);
}

void Queue::throw_broken(const char* op, const std::exception& e) const {
  throw Error(Errc::Corrupt, std::string("bip-mq queue ") + path_of(name_) + ": " + op + " failed: " + e.what() +
                                 " (a process died holding its lock?)");
}

bool Queue::send(std::span<const std::byte> message, unsigned priority, const boost::posix_time::ptime& until) {
  try {
    return queue_->timed_send(message.data(), message.size(), priority, until);
  } catch (const bi::interprocess_exception& e) {
    throw_broken("send", e);
  }
}

bool Queue::receive(std::span<std::byte> into, Received& got, const boost::posix_time::ptime& until) {
  try {
    BoostQueue::size_type size = 0;
    unsigned priority = 0;
    if (!queue_->timed_receive(into.data(), into.size(), size, priority, until)) return false;
    got = {static_cast<std::size_t>(size), priority};
    return true;
  } catch (const bi::interprocess_exception& e) {
    throw_broken("receive", e);
  }
}

}  // namespace ipcmark::bip_mq
