package hotline.searchnode;

import java.nio.file.Path;

import com.carrotsearch.randomizedtesting.RandomizedRunner;
import com.carrotsearch.randomizedtesting.annotations.ThreadLeakScope;
import com.carrotsearch.randomizedtesting.annotations.Timeout;
import com.carrotsearch.randomizedtesting.annotations.TimeoutSuite;

import org.junit.Test;
import org.junit.runner.RunWith;

/** The node's whole life as one RandomizedRunner test: it returns only when the JVM is asked to stop. */
@RunWith(RandomizedRunner.class)
@ThreadLeakScope(ThreadLeakScope.Scope.NONE)
@TimeoutSuite(millis = Integer.MAX_VALUE)
public class NodeSuite {
    static final String HOME_PROPERTY = "hotline.search_node.home";
    static final String PORT_PROPERTY = "hotline.search_node.http_port";

    @Test
    @Timeout(millis = Integer.MAX_VALUE)
    public void runNode() throws Exception {
        SearchNode.run(Path.of(System.getProperty(HOME_PROPERTY)).toAbsolutePath(), System.getProperty(PORT_PROPERTY));
    }
}
