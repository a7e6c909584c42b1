package org.etcdjvm.embedded;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a bare {@link Socket}, for requests the JDK client refuses to send (raw non-ASCII
 * bytes, bodies on HEAD, {@code Expect: 100-continue} without a body, hang-ups mid-request). Every
 * response of the node has a {@code Content-Length}, so parsing is simple.
 */
public final class RawHttp implements Closeable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  /** A byte read ahead by {@link #tryRead}, or -1. */
  private int pushedBack = -1;

  public RawHttp(String baseUrl) {
    this(baseUrl, null);
  }

  /**
   * Connects from {@code localAddress} (e.g. {@code 127.0.0.2}: on Linux all of 127/8 is loopback,
   * so one machine can play several client addresses), or from any address when null.
   */
  public RawHttp(String baseUrl, String localAddress) {
    URI uri = URI.create(baseUrl);
    try {
      socket = new Socket();
      if (localAddress != null) {
        socket.bind(new InetSocketAddress(localAddress, 0));
      }
      socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5_000);
      socket.setSoTimeout(15_000);
      in = new java.io.BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One response. Header names are lower case; {@code body} is UTF-8 decoded. */
  public record Response(int status, String statusLine, Map<String, String> headers, byte[] bytes) {
    public String body() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Opens a connection, sends {@code request} (ISO-8859-1, so each char is one byte), reads one response, closes. */
  public static Response exchange(String baseUrl, String request) {
    return exchange(baseUrl, request.getBytes(StandardCharsets.ISO_8859_1), false);
  }

  public static Response exchange(String baseUrl, byte[] request, boolean head) {
    try (RawHttp c = new RawHttp(baseUrl)) {
      c.send(request);
      return c.read(head);
    }
  }

  public void send(String request) {
    send(request.getBytes(StandardCharsets.ISO_8859_1));
  }

  public void send(byte[] request) {
    try {
      out.write(request);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Response read() {
    return read(false);
  }

  /** Reads one response; for a response to HEAD ({@code head}), no body is read whatever the headers say. */
  public Response read(boolean head) {
    try {
      String statusLine = line();
      Map<String, String> headers = new LinkedHashMap<>();
      for (String h; !(h = line()).isEmpty(); ) {
        int colon = h.indexOf(':');
        headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
      }
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      byte[] body = new byte[0];
      String length = headers.get("content-length");
      if (!head && length != null) {
        body = in.readNBytes(Integer.parseInt(length));
        if (body.length != Integer.parseInt(length)) {
          throw new EOFException("body cut short: " + body.length + " of " + length);
        }
      } else if (!head && status >= 200 && status != 204 && status != 304) {
        throw new IOException("response without content-length: " + statusLine + " " + headers);
      }
      return new Response(status, statusLine, headers, body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads one response, waiting at most {@code timeoutMillis} for its first byte.
   *
   * @return the response, or null when nothing came in time (the connection stays usable)
   */
  public Response tryRead(int timeoutMillis) {
    try {
      socket.setSoTimeout(timeoutMillis);
      int first;
      try {
        first = in.read();
      } catch (java.net.SocketTimeoutException e) {
        return null;
      } finally {
        socket.setSoTimeout(15_000);
      }
      if (first < 0) {
        throw new EOFException("connection closed");
      }
      pushedBack = first;
      return read(false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the server closed the connection (end of stream or reset) within the socket timeout. */
  public boolean closedByServer() {
    try {
      return in.read() < 0;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset: closed as well
    }
  }

  /** Hangs up abruptly: RST instead of FIN. */
  public void reset() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = next()) != '\n'; ) {
      if (b < 0) {
        throw new EOFException("connection closed; got so far: " + line.toString(StandardCharsets.ISO_8859_1));
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  private int next() throws IOException {
    if (pushedBack >= 0) {
      int b = pushedBack;
      pushedBack = -1;
      return b;
    }
    return in.read();
  }

  /**
   * Whether the server has sent something (an answer) or closed the connection; waits at most 1 ms.
   * Consumes what it finds, so use it only on a connection that is to be dropped when it says yes.
   */
  public boolean answeredOrClosed() {
    try {
      socket.setSoTimeout(1);
      in.read();
      return true;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    } finally {
      try {
        socket.setSoTimeout(15_000);
      } catch (IOException closed) {
        // nothing to restore
      }
    }
  }

  /** How long a read may block before it fails; 15 s unless changed. */
  public void setReadTimeout(int millis) {
    try {
      socket.setSoTimeout(millis);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The socket's input, for tests that read (or refuse to read) at their own pace. */
  public InputStream input() {
    return in;
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
