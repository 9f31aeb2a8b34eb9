#include "transports/fanout.hpp"

#include <utility>
#include <vector>

#include "transports/names.hpp"

namespace ipcmark {
namespace {

void check_readers(int readers) {
  if (readers < 1 || readers > kMaxReaders)
    throw Error(Errc::InvalidArgument,
                "invalid reader count " + std::to_string(readers) + ": use 1 to " + std::to_string(kMaxReaders));
}

// The generic writer: its readers' point-to-point connections, sent to one after another.
// A reader gone (PeerGone) is dropped and its names removed; the others carry on.
class PerReaderWriter final : public FanoutWriter {
 public:
  explicit PerReaderWriter(std::vector<std::unique_ptr<Connection>> readers) : readers_(std::move(readers)) {}

  void accept(Deadline deadline) override {
    for (auto& reader : readers_) reader->accept(deadline);
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    bool anyone = false;
    for (auto& reader : readers_) {
      if (!reader) continue;
      try {
        reader->send(message, deadline);
        anyone = true;
      } catch (const Error& e) {
        if (e.code() != Errc::PeerGone) throw;
        reader.reset();
        ++lost_;
      }
    }
    if (!anyone) throw Error(Errc::PeerGone, "every reader has gone");
  }

  int readers_lost() const override { return lost_; }

 private:
  std::vector<std::unique_ptr<Connection>> readers_;  // nullptr once dropped
  int lost_ = 0;
};

// A generic reader: its point-to-point connection, with the sending half shut.
class ReceiveOnly final : public Connection {
 public:
  explicit ReceiveOnly(std::unique_ptr<Connection> inner) : inner_(std::move(inner)) {}
  void accept(Deadline deadline) override { inner_->accept(deadline); }
  void send(std::span<const std::byte>, Deadline) override { refuse(); }
  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    return inner_->receive(buffer, deadline);
  }
  std::span<std::byte> loan(std::size_t, Deadline) override { refuse(); }
  void commit() override { refuse(); }
  std::span<const std::byte> view(Deadline deadline) override { return inner_->view(deadline); }
  void release() override { inner_->release(); }

 private:
  [[noreturn]] static void refuse() { throw Error(Errc::InvalidArgument, "a fanout reader only receives"); }
  std::unique_ptr<Connection> inner_;
};

}  // namespace

std::string reader_channel(const std::string& channel, int reader) {
  if (reader < 0 || reader >= kMaxReaders)
    throw Error(Errc::InvalidArgument, "invalid reader " + std::to_string(reader) + ": use 0 to " +
                                           std::to_string(kMaxReaders - 1));
  std::string name = channel + ".r" + std::to_string(reader);
  validate_channel_name(name);
  return name;
}

std::unique_ptr<FanoutWriter> serve_fanout(const Transport& transport, const FanoutConfig& config) {
  check_readers(config.readers);
  validate_channel_name(config.channel.channel);
  if (transport.fanout) return transport.fanout->serve(config);
  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < config.readers; ++i) {
    ChannelConfig one = config.channel;
    one.channel = reader_channel(config.channel.channel, i);
    readers.push_back(transport.channel.serve(one));  // on a throw, the ones made so far remove their names
  }
  return std::make_unique<PerReaderWriter>(std::move(readers));
}

std::unique_ptr<Connection> connect_fanout(const Transport& transport, const ChannelConfig& config, int reader) {
  validate_channel_name(config.channel);
  if (transport.fanout) {
    if (reader < 0 || reader >= kMaxReaders) (void)reader_channel(config.channel, reader);  // throws
    return transport.fanout->connect(config, reader);
  }
  ChannelConfig one = config;
  one.channel = reader_channel(config.channel, reader);
  return std::make_unique<ReceiveOnly>(transport.channel.connect(one));
}

void remove_fanout(const Transport& transport, const std::string& channel) {
  if (transport.fanout) {
    transport.fanout->remove(channel);
    return;
  }
  for (int i = 0; i < kMaxReaders; ++i) {
    const std::string name = channel + ".r" + std::to_string(i);
    try {
      validate_channel_name(name);
    } catch (const Error&) {
      return;  // too long: serve_fanout could not have made it either
    }
    transport.channel.remove(name);
  }
}

}  // namespace ipcmark
