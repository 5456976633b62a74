/* A program embedding CPython, as uWSGI or a game engine would: it links libpython, runs a
 * Python file as __main__ and, with --subinterpreter, first starts a sub-interpreter whose
 * own thread runs sub_worker() forever. Built by the tests with
 *   cc host.c $(python3.X-config --cflags --ldflags --embed) -Wl,-rpath,<libdir> -o host
 * Usage: host SCRIPT.py [--subinterpreter]
 */
#include <Python.h>
#include <stdio.h>
#include <string.h>

static const char *SUB_PROGRAM =
    "import threading, time\n"
    "def sub_worker():\n"
    "    while True:\n"
    "        time.sleep(0.05)  # SUB_LINE = 4\n"
    "t = threading.Thread(target=sub_worker, name='sub-worker')\n"
    "t.daemon = True\n"
    "t.start()\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT.py [--subinterpreter]\n", argv[0]);
        return 2;
    }
    Py_Initialize();
    if (argc > 2 && strcmp(argv[2], "--subinterpreter") == 0) {
        PyThreadState *main_state = PyThreadState_Get();
        PyThreadState *sub_state = Py_NewInterpreter();
        if (sub_state == NULL) {
            fprintf(stderr, "Py_NewInterpreter failed\n");
            return 1;
        }
        if (PyRun_SimpleString(SUB_PROGRAM) != 0) {
            return 1;
        }
        PyThreadState_Swap(main_state);
    }
    FILE *script = fopen(argv[1], "r");
    if (script == NULL) {
        perror(argv[1]);
        return 1;
    }
    /* The script runs forever; the test kills the process. */
    int rc = PyRun_SimpleFileExFlags(script, argv[1], 1, NULL);
    return rc == 0 ? 0 : 1;
}
