package dev.mates.loadtest;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The load generator's confinement: it sends only to this machine. A target is {@code HOST:PORT} (or
 * {@code [IPv6]:PORT}) whose host is {@code localhost}, an address in 127.0.0.0/8 or {@code ::1}, or a name that
 * resolves to loopback addresses only. The caller connects to the checked address, never to the name again, so a
 * name cannot resolve elsewhere between the check and the connection.
 */
public final class Loopback {
    private Loopback() {}

    /** A checked target: the address to connect to, and its port. */
    public record Target(InetAddress address, int port) {
        /** {@code 127.0.0.1:9003}, {@code [::1]:9003}: a gRPC target naming the checked address itself. */
        public String grpcTarget() {
            String host = address.getHostAddress();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /**
     * Parses and checks {@code target}.
     *
     * @throws IllegalArgumentException naming {@code option} and the target when it is malformed, does not resolve, or
     *                                  resolves to any address that is not loopback
     */
    public static Target check(String option, String target) {
        String t = target == null ? "" : target.strip();
        String host;
        String port;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            if (close < 0 || close + 1 >= t.length() || t.charAt(close + 1) != ':') throw malformed(option, target);
            host = t.substring(1, close);
            port = t.substring(close + 2);
        } else {
            int colon = t.lastIndexOf(':');
            if (colon <= 0 || t.indexOf(':') != colon) throw malformed(option, target);
            host = t.substring(0, colon);
            port = t.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw malformed(option, target);
        }
        if (p < 1 || p > 65535) throw malformed(option, target);
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(option + " " + target + ": host '" + host + "' does not resolve");
        }
        for (InetAddress a : all) {
            if (!a.isLoopbackAddress()) {
                String what = a.getHostAddress().equals(host) ? host : host + " is " + a.getHostAddress() + ",";
                throw new IllegalArgumentException(option + " " + target + ": " + what
                        + " not a loopback address; the load generator only sends to this machine (localhost, 127.0.0.0/8, ::1)");
            }
        }
        // IPv4 first: the local cluster's services listen on 127.0.0.1 only.
        for (InetAddress a : all) if (a instanceof java.net.Inet4Address) return new Target(a, p);
        return new Target(all[0], p);
    }

    private static IllegalArgumentException malformed(String option, String target) {
        return new IllegalArgumentException(option + " '" + target + "': expected HOST:PORT on this machine, e.g. 127.0.0.1:9006");
    }
}
