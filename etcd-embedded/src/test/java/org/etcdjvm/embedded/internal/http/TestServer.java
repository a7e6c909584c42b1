package org.etcdjvm.embedded.internal.http;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real {@link V1HttpServer} on a free port of 127.0.0.1 in front of a {@link FakeReplica}, with
 * the limit warnings it writes collected in {@link #warnings()}.
 */
final class TestServer implements AutoCloseable {
  final FakeReplica replica;
  final V1HttpServer server;
  final String url;
  private final List<String> warnings = new CopyOnWriteArrayList<>();

  TestServer(HttpConfig config) throws Exception {
    this(config, new FakeReplica());
  }

  TestServer(HttpConfig config, FakeReplica replica) throws Exception {
    this.replica = replica;
    this.server = new V1HttpServer(replica, config, new LimitWarnings(System::nanoTime, warnings::add));
    InetSocketAddress bound = server.start().get(10, TimeUnit.SECONDS);
    this.url = "http://127.0.0.1:" + bound.getPort();
  }

  /** A configuration on a free port of 127.0.0.1, otherwise at the defaults. */
  static HttpConfig.Builder config() {
    return HttpConfig.of("127.0.0.1", 0).toBuilder();
  }

  /** The WARN lines written so far. */
  List<String> warnings() {
    return warnings;
  }

  @Override
  public void close() {
    server.close();
  }
}
