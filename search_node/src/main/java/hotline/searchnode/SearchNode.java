package hotline.searchnode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.transport.TransportAddress;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.MockNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * Runs one Elasticsearch node in this JVM from the published server jars, for development and tests.
 *
 * <p>Usage: {@code SearchNode <home-dir> <http-port>}. Prints {@code SEARCH_NODE_READY http=<host:port>}
 * once the HTTP port is bound, then blocks until SIGTERM/SIGINT, which closes the node cleanly.
 * MockNode is used only because it accepts plugin classes from the classpath; no mock services are
 * passed to it, so search, indexing and HTTP are the real implementations.
 */
public final class SearchNode {
    private SearchNode() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: SearchNode <home-dir> <http-port>");
            System.exit(2);
        }
        System.setProperty(NodeSuite.HOME_PROPERTY, args[0]);
        System.setProperty(NodeSuite.PORT_PROPERTY, args[1]);
        // The test framework's code asks RandomizedContext for its randomness, which exists only inside
        // RandomizedRunner; so the node runs as the one "test" of a suite, as Elasticsearch's own tests do.
        Result result = new JUnitCore().run(NodeSuite.class);
        for (Failure failure : result.getFailures()) {
            System.err.println(failure.getTrace());
        }
        System.exit(result.wasSuccessful() ? 0 : 1);
    }

    static void run(Path home, String httpPort) throws Exception {
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Files.createDirectories(home.resolve("config"));

        Settings settings = Settings.builder()
            .put("cluster.name", "hotline-dev")
            .put("node.name", "hotline-dev-node")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.destructive_requires_name", false)
            // Test runs create many short-lived indices; the default of 1,000 shards per node is too tight.
            .put("cluster.max_shards_per_node", 10000)
            .build();

        Node node = new MockNode(settings, List.of(Netty4Plugin.class, RootEndpointPlugin.class));
        // The test bootstrap (run by MockNode's class initialiser) turns leak detection to "paranoid".
        System.setProperty("io.netty.leakDetection.level", "disabled");
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        node.start();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }, "search-node-shutdown"));

        TransportAddress bound = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        System.out.println("SEARCH_NODE_READY http=" + bound.getAddress() + ":" + bound.getPort());
        System.out.flush();
        stopped.await();
    }
}
