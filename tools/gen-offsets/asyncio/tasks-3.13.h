/* The C future and task objects of CPython 3.13, as laid out in Modules/_asynciomodule.c
 * (checked against Debian's python3.13 3.13.5 source package: FutureObj_HEAD and TaskObj).
 * 3.13 dropped the dict and weakref list pointers (managed by the type now) and packed the
 * flags into bitfields. Not in any installed header: tools/gen-offsets/gen_asyncio.py compiles
 * this after Python.h. */
typedef enum { STATE_PENDING, STATE_CANCELLED, STATE_FINISHED } fut_state;

typedef struct {
    PyObject_HEAD
    PyObject *task_loop;
    PyObject *task_callback0;
    PyObject *task_context0;
    PyObject *task_callbacks;
    PyObject *task_exception;
    PyObject *task_exception_tb;
    PyObject *task_result;
    PyObject *task_source_tb;
    PyObject *task_cancel_msg;
    PyObject *task_cancelled_exc;
    fut_state task_state;
    unsigned task_log_tb: 1;
    unsigned task_blocking: 1;
    /* TaskObj's own fields */
    unsigned task_must_cancel: 1;
    unsigned task_log_destroy_pending: 1;
    int task_num_cancels_requested;
    PyObject *task_fut_waiter;
    PyObject *task_coro;
    PyObject *task_name;
    PyObject *task_context;
} TaskObj;
