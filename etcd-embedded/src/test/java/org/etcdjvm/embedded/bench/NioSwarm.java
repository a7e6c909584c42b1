package org.etcdjvm.embedded.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many client connections driven by one thread, as wrk does: each sends its request, reads the
 * answer (headers parsed, body counted and dropped), and sends the request again. For the attacks
 * that need thousands of busy connections (2 000 watchers, 1 500 writers) without thousands of
 * client threads competing with the node for the same two cores.
 */
final class NioSwarm implements AutoCloseable {
  private final Selector selector;
  private final byte[] request;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;
  /** Answers by HTTP status. */
  final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
  final AtomicLong bodyBytes = new AtomicLong();

  /** One connection's reading state. */
  private static final class Conn {
    final ByteBuffer out;
    final StringBuilder head = new StringBuilder();
    long bodyLeft = -1; // -1: reading the head
    int status;

    Conn(byte[] request) {
      out = ByteBuffer.wrap(request);
    }
  }

  /**
   * @param node      the node's client address
   * @param fromHosts the local addresses to connect from, in turn
   * @param request   the request each connection sends, again after each answer
   */
  NioSwarm(InetSocketAddress node, String[] fromHosts, int connections, String request, String name)
      throws IOException {
    this.selector = Selector.open();
    this.request = request.getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < connections; i++) {
      SocketChannel ch = SocketChannel.open();
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.bind(new InetSocketAddress(fromHosts[i % fromHosts.length], 0));
      ch.connect(node);
      ch.configureBlocking(false);
      ch.register(selector, SelectionKey.OP_WRITE, new Conn(this.request));
    }
    thread = new Thread(this::loop, name);
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
    try {
      while (running.get()) {
        selector.select(100);
        for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
          SelectionKey key = it.next();
          it.remove();
          if (!key.isValid()) {
            continue;
          }
          SocketChannel ch = (SocketChannel) key.channel();
          Conn c = (Conn) key.attachment();
          try {
            if (key.isWritable()) {
              ch.write(c.out);
              if (!c.out.hasRemaining()) {
                key.interestOps(SelectionKey.OP_READ);
              }
            } else if (key.isReadable()) {
              in.clear();
              int n = ch.read(in);
              if (n < 0) {
                key.cancel();
                ch.close();
                count(-1);
                continue;
              }
              in.flip();
              if (consume(c, in)) {
                c.out.rewind();
                key.interestOps(SelectionKey.OP_WRITE);
              }
            }
          } catch (IOException e) {
            key.cancel();
            ch.close();
            count(-1);
          }
        }
      }
    } catch (IOException e) {
      count(-2);
    }
  }

  /** Feeds bytes of an answer; true when it is complete (extra bytes cannot come: one request at a time). */
  private boolean consume(Conn c, ByteBuffer in) {
    while (in.hasRemaining()) {
      if (c.bodyLeft < 0) {
        c.head.append((char) (in.get() & 0xFF));
        int end = c.head.length();
        if (end >= 4 && c.head.charAt(end - 1) == '\n' && c.head.charAt(end - 2) == '\r'
            && c.head.charAt(end - 3) == '\n' && c.head.charAt(end - 4) == '\r') {
          String head = c.head.toString();
          c.head.setLength(0);
          c.status = Integer.parseInt(head.substring(9, 12));
          if (c.status == 100) {
            continue;
          }
          int at = head.toLowerCase().indexOf("content-length:");
          c.bodyLeft = at < 0 ? 0 : Long.parseLong(head.substring(at + 15, head.indexOf('\r', at)).trim());
        }
      } else {
        int take = (int) Math.min(c.bodyLeft, in.remaining());
        in.position(in.position() + take);
        c.bodyLeft -= take;
        bodyBytes.addAndGet(take);
      }
      if (c.bodyLeft == 0) {
        c.bodyLeft = -1;
        count(c.status);
        return true;
      }
    }
    return false;
  }

  private void count(int status) {
    statuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
  }

  @Override
  public void close() throws IOException {
    running.set(false);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (SelectionKey key : selector.keys()) {
      key.channel().close();
    }
    selector.close();
  }
}
