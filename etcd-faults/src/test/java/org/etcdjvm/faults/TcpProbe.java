package org.etcdjvm.faults;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A process for {@link NamespaceNetworkTest}, started inside a namespace: {@code listen HOST PORT}
 * accepts connections until killed; {@code connect HOST PORT MS} exits 0 if it connected, 3 on a
 * timeout (packets silently dropped), 4 if refused or unreachable.
 */
public final class TcpProbe {
  private TcpProbe() {}

  public static void main(String[] args) throws IOException {
    String host = args[1];
    int port = Integer.parseInt(args[2]);
    if (args[0].equals("listen")) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(host, port));
        System.out.println("listening");
        System.out.flush();
        while (true) {
          s.accept().close();
        }
      }
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), Integer.parseInt(args[3]));
      System.exit(0);
    } catch (SocketTimeoutException e) {
      System.exit(3);
    } catch (IOException e) {
      System.exit(4);
    }
  }
}
