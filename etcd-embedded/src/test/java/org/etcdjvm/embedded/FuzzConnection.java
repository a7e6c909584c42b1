package org.etcdjvm.embedded;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * One client connection of {@link HttpFuzzTest}: writes a batch of requests whole, split at random
 * points, or slowly, and reads responses (every response of the node has a {@code Content-Length};
 * {@code 100 Continue} is skipped).
 */
final class FuzzConnection implements Closeable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final long connectedNanos;
  /** When the first bytes were handed to the socket; 0 until then. */
  private volatile long firstBytesNanos;
  /** The longest time between two pieces of the batch handed to the socket. */
  private volatile long longestGapNanos;

  FuzzConnection(InetSocketAddress node) throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(node, 5_000);
    connectedNanos = System.nanoTime();
    in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    out = socket.getOutputStream();
  }

  /** A response; {@code closes} when it carries {@code Connection: close}. */
  record Response(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    String header(String name) {
      return headers.get(name);
    }

    boolean closes() {
      return "close".equalsIgnoreCase(headers.get("connection"));
    }
  }

  /**
   * Writes {@code bytes}: at once (most often), in 2 to 8 pieces, or in up to 5 pieces a millisecond
   * or two apart. A write the server cut off by closing is not an error here: the reader sees it.
   */
  void write(byte[] bytes, Random random) {
    try {
      int mode = random.nextInt(100);
      if (mode < 70 || bytes.length < 2) {
        out.write(bytes);
        noteFirstBytes();
      } else {
        boolean slow = mode >= 95;
        long lastPieceNanos = 0;
        int pieces = slow ? 2 + random.nextInt(4) : 2 + random.nextInt(7);
        int at = 0;
        for (int i = 1; i <= pieces && at < bytes.length; i++) {
          int end = i == pieces ? bytes.length : Math.min(bytes.length, at + 1 + random.nextInt(
              Math.max(1, 2 * (bytes.length - at) / (pieces - i + 1))));
          long before = System.nanoTime();
          if (at > 0) {
            longestGapNanos = Math.max(longestGapNanos, before - lastPieceNanos);
          }
          out.write(bytes, at, end - at);
          out.flush();
          noteFirstBytes();
          lastPieceNanos = System.nanoTime();
          at = end;
          if (slow) {
            Thread.sleep(1 + random.nextInt(2));
          }
        }
      }
      out.flush();
    } catch (IOException closedByServer) {
      // the reader finds out what the server said before closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void noteFirstBytes() {
    if (firstBytesNanos == 0) {
      firstBytesNanos = System.nanoTime();
    }
  }

  /**
   * Whether this client left more than {@code deadlineMillis} between two pieces of its batch (a
   * busy machine, or a GC pause of the test's JVM, can keep the writing thread off the CPU that
   * long): a request's headers or body then took longer than the node's read deadline, and the node
   * closes the connection, without answering a request still in progress, as it should.
   */
  boolean stalledLongerThan(long deadlineMillis) {
    return longestGapNanos >= deadlineMillis * 1_000_000;
  }

  long longestGapMillis() {
    return longestGapNanos / 1_000_000;
  }

  /** This end's port: the node's debug log names the connection by it. */
  int localPort() {
    return socket.getLocalPort();
  }

  /** How long ago the connection was made. */
  long millisSinceConnect() {
    return (System.nanoTime() - connectedNanos) / 1_000_000;
  }

  /**
   * Whether this client was slower than {@code deadlineMillis} to send its first bytes after the
   * connect (a busy machine can keep a thread off the CPU that long): the node then closes the
   * connection without a word, as it should.
   */
  boolean firstBytesLaterThan(long deadlineMillis) {
    long first = firstBytesNanos;
    return first == 0 || first - connectedNanos >= deadlineMillis * 1_000_000;
  }

  /**
   * Reads the next final response, waiting at most {@code timeoutMillis} for each byte.
   *
   * @param head whether it answers a HEAD request (no body follows, whatever the headers say, unless
   *     the answer closes the connection: see below)
   * @return the response, or null when the server closed the connection before one began
   * @throws SocketTimeoutException when nothing (more) came in time
   * @throws IOException            on a malformed response, or one cut short by a close
   */
  Response read(boolean head, int timeoutMillis) throws IOException {
    socket.setSoTimeout(timeoutMillis);
    while (true) {
      String statusLine;
      try {
        statusLine = line(true);
      } catch (SocketTimeoutException e) {
        throw e;
      } catch (IOException reset) {
        return null; // closed (FIN or RST) before a response began
      }
      if (statusLine == null) {
        return null;
      }
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not a status line: " + FuzzRequests.abbreviate(statusLine));
      }
      int status = Integer.parseInt(parts[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String h; !(h = line(false)).isEmpty(); ) {
        int colon = h.indexOf(':');
        if (colon <= 0) {
          throw new IOException("not a header: " + FuzzRequests.abbreviate(h));
        }
        headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
      if (status == 100) {
        continue; // the go-ahead for a body; the final response follows
      }
      String length = headers.get("content-length");
      if (length == null) {
        throw new IOException("response without Content-Length: " + statusLine + " " + headers);
      }
      byte[] body = new byte[0];
      if (head && "close".equalsIgnoreCase(headers.get("connection"))) {
        // A request too broken to parse is answered as if it were a GET (the server cannot know it
        // was a HEAD): the body is there or not, and the connection ends after it either way.
        body = in.readAllBytes();
        if (body.length != 0 && body.length != Integer.parseInt(length)) {
          throw new IOException("a HEAD answer with a body of " + body.length + " bytes, Content-Length " + length);
        }
      } else if (!head) {
        int n = Integer.parseInt(length);
        body = in.readNBytes(n);
        if (body.length != n) {
          throw new IOException("body cut short: " + body.length + " of " + n + " bytes");
        }
      }
      return new Response(status, headers, body);
    }
  }

  /** Whether the server closes the connection (end of stream or reset) within {@code timeoutMillis}. */
  boolean closedByServer(int timeoutMillis) throws IOException {
    socket.setSoTimeout(timeoutMillis);
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  /** A line without its CRLF; null at end of stream when {@code eofAllowed} and nothing was read. */
  private String line(boolean eofAllowed) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (eofAllowed && line.size() == 0) {
          return null;
        }
        throw new IOException("connection closed mid-response after "
            + FuzzRequests.abbreviate(line.toString(StandardCharsets.ISO_8859_1)));
      }
      if (b == '\n') {
        return line.toString(StandardCharsets.ISO_8859_1);
      }
      if (b != '\r') {
        line.write(b);
      }
      if (line.size() > 128 * 1024) {
        throw new IOException("response line longer than 128 KiB");
      }
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // ignore
    }
  }
}
