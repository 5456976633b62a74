//! The merger end to end: text in (in chunks cut anywhere), kept frames and counts out.

use super::count::{parse_count, Big, Count};
use super::*;

fn merger(options: MergeOptions) -> Merger {
    let mut merger = Merger::new(options);
    merger.begin_source(false);
    merger
}

/// Reads `text` in chunks of `chunk` bytes; the malformed lines reported.
fn feed(merger: &mut Merger, text: &str, chunk: usize) -> Vec<InvalidLine> {
    let mut invalid = Vec::new();
    for piece in text.as_bytes().chunks(chunk.max(1)) {
        invalid.extend(merger.push(piece));
    }
    invalid.extend(merger.end_source());
    invalid
}

fn merge(text: &str, options: MergeOptions) -> Layout {
    let mut m = merger(options);
    assert_eq!(feed(&mut m, text, 7), vec![]);
    m.finish(&LayoutOptions::default())
}

/// Drawn frames as `path=count`, in drawing order (`path` joins names from the root down).
fn frames(tree: &Layout) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for i in 0..tree.depth.len() {
        if i > 0 {
            path.truncate(tree.depth[i] as usize - 1);
            path.push(tree.names[tree.name[i] as usize].clone());
        }
        let count = match &tree.samples.units_text {
            Some(text) => super::count::scaled_to_decimal(&Big::from_decimal(text[i].as_bytes()), tree.samples.scale),
            None => tree.samples.units[i].to_string(),
        };
        out.push(format!("{}={count}", if i == 0 { "all".to_string() } else { path.join(";") }));
    }
    out
}

#[test]
fn stacks_merge_in_a_prefix_tree() {
    let tree = merge("a.py:f:1 5\na.py:f:1;a.py:g:2 2\na.py:f:10 3\nmain;foo 1\nmain;foo;bar 2\nmain;foo.baz 4\n", MergeOptions::default());
    assert_eq!(frames(&tree), ["all=17", "a.py:f:1=7", "a.py:f:1;a.py:g:2=2", "a.py:f:10=3", "main=7", "main;foo=3", "main;foo;bar=2", "main;foo.baz=4"]);
    assert_eq!(tree.stacks, 6);
    assert_eq!(tree.merged_frames, 7);
    assert_eq!(tree.samples.total, "17");
}

#[test]
fn lines_straddle_chunks_at_every_cut() {
    let text = "root;a;b 1\r\nroot;a;c 2\r\n# comment\r\nroot;d 3";
    let expected = frames(&merge(text, MergeOptions::default()));
    for chunk in 1..text.len() {
        let mut m = merger(MergeOptions::default());
        assert_eq!(feed(&mut m, text, chunk), vec![]);
        assert_eq!(frames(&m.finish(&LayoutOptions::default())), expected, "chunks of {chunk}");
    }
    assert_eq!(expected, ["all=6", "root=6", "root;a=3", "root;a;b=1", "root;a;c=2", "root;d=3"]);
}

#[test]
fn comments_blank_lines_crlf_and_spaces() {
    let tree = merge("# austin header\n\n   \r\n  a;b 1\r\n\ta;b\t2 \r\n", MergeOptions::default());
    assert_eq!(frames(&tree), ["all=3", "a=3", "a;b=3"]);
    assert_eq!(tree.stacks, 2);
}

#[test]
fn fractional_and_huge_counts_sum_exactly() {
    let tree = merge("a;b 0.1\na;b 0.2\na;c 1\nx 9007199254740993\nx;y 9007199254740993\n", MergeOptions::default());
    assert_eq!(frames(&tree), ["all=18014398509481987.3", "a=1.3", "a;b=0.3", "a;c=1", "x=18014398509481986", "x;y=9007199254740993"]);
    assert_eq!(tree.samples.scale, 1);
    assert_eq!(tree.samples.total, "18014398509481987.3");
    assert_eq!(parse_count(b"3."), Some(Count::Small(3)));
    assert_eq!(parse_count(b"2.50"), Some(Count::Exact { digits: 1, scaled: Big::from_u64(25) }));
    assert_eq!(parse_count(b"-1"), None);
    assert_eq!(parse_count(b"1e3"), None);
}

#[test]
fn a_total_past_two_to_the_53_switches_to_exact() {
    let tree = merge("a 9007199254740991\nb 2\n", MergeOptions::default());
    assert_eq!(tree.samples.total, "9007199254740993");
    assert_eq!(tree.samples.units_text.as_ref().unwrap()[0], "9007199254740993");
}

#[test]
fn perf_annotations_are_distinct_frames() {
    // flamegraph.pl merges by the full name; `_[k]` only changes the colour and what is shown.
    let tree = merge("a;c_[k] 1\na;c 1\n", MergeOptions::default());
    assert_eq!(frames(&tree), ["all=2", "a=2", "a;c=1", "a;c_[k]=1"]);
}

#[test]
fn differential_input_is_detected_from_the_first_stack_line() {
    let tree = merge("# before after\nmain;a 10 2\nmain;b 5 20\n", MergeOptions::default());
    assert!(tree.differential);
    assert_eq!(frames(&tree), ["all=22", "main=22", "main;a=2", "main;b=20"]);
    let before = tree.before.as_ref().unwrap();
    assert_eq!(before.units, [15.0, 15.0, 10.0, 5.0]);
    assert_eq!(before.total, "15");
    // One count on the first line: not differential, whatever follows.
    let plain = merge("main;a 10\nmain;b 5 20\n", MergeOptions::default());
    assert!(!plain.differential && plain.before.is_none());
    assert_eq!(frames(&plain), ["all=30", "main=30", "main;a=10", "main;b 5=20"]);
}

#[test]
fn differential_lines_need_two_counts() {
    let mut m = merger(MergeOptions { differential: Some(true), skip_invalid: true, ..MergeOptions::default() });
    let invalid = feed(&mut m, "a 1 2\nb 3\n", 100);
    assert_eq!(invalid, [InvalidLine { line: 2, reason: "expected \"stack before after\" (differential input), found one count".into() }]);
}

#[test]
fn malformed_lines_stop_with_their_number_or_are_counted() {
    let text = "a;b 3\n# fine\nno-count-here\na;c 2\nbad count x\n;; 4\n";
    let mut strict = merger(MergeOptions::default());
    assert_eq!(feed(&mut strict, text, 4)[0], InvalidLine { line: 3, reason: "expected \"stack count\", found no count after a space".into() });

    let mut lenient = merger(MergeOptions { skip_invalid: true, ..MergeOptions::default() });
    let invalid = feed(&mut lenient, text, 4);
    assert_eq!(invalid.iter().map(|i| i.line).collect::<Vec<_>>(), [3, 5, 6]);
    assert_eq!(invalid[1].reason, "the count \"x\" is not a non-negative number");
    assert_eq!(invalid[2].reason, "the stack has no frame names");
    let tree = lenient.finish(&LayoutOptions::default());
    assert_eq!((tree.stacks, tree.invalid_lines), (2, 3));
    assert_eq!(frames(&tree), ["all=5", "a=5", "a;b=3", "a;c=2"]);
}

#[test]
fn line_numbers_restart_with_each_source_and_sources_merge() {
    let mut m = merger(MergeOptions { skip_invalid: true, ..MergeOptions::default() });
    assert_eq!(feed(&mut m, "a 1\nbad\n", 3)[0].line, 2);
    m.begin_source(false);
    assert_eq!(feed(&mut m, "bad\na 2", 3)[0].line, 1);
    assert_eq!(frames(&m.finish(&LayoutOptions::default())), ["all=3", "a=3"]);
}

#[test]
fn reverse_flips_each_stack() {
    let tree = merge("main;load 3\nmain;compute 2\nmain;load 1\n", MergeOptions { reverse: true, ..MergeOptions::default() });
    assert_eq!(frames(&tree), ["all=6", "compute=2", "compute;main=2", "load=4", "load;main=4"]);
}

#[test]
fn flamechart_merges_only_with_the_previous_line() {
    let tree = merge("main;load 3\nmain;compute 2\nmain;load 1\nmain;load;x 1\n", MergeOptions { flamechart: true, ..MergeOptions::default() });
    assert_eq!(frames(&tree), ["all=7", "main=7", "main;load=3", "main;compute=2", "main;load=2", "main;load;x=1"]);
}

#[test]
fn run_labels_are_set_aside_at_the_root() {
    let options = MergeOptions { drop_run_labels: true, ..MergeOptions::default() };
    let tree = merge("process 1;thread 2;main;f 3\nprocess 9;thread (8): Main;main;f 1\nP4;T5 2\n", options);
    assert_eq!(frames(&tree), ["all=6", "main=4", "main;f=4"]);
    for label in ["process 1234", "process 1234:\"python app.py\"", "thread 5678 (MainThread)", "thread (5678): MainThread", "pid:1234", "tid:99", "P1234", "T5678"] {
        assert!(is_run_label(label), "{label}");
    }
    for label in ["process_request (app.py:3)", "thread.py:run:12", "Pipeline", "main", "P", "process x"] {
        assert!(!is_run_label(label), "{label}");
    }
}

#[test]
fn narrow_frames_are_pruned_and_their_samples_stay_in_the_parent() {
    let mut m = merger(MergeOptions::default());
    feed(&mut m, "root;big 990\nroot;tiny 5\nroot;tiny;deeper 3\nroot;small 5\n", 64);
    let tree = m.finish(&LayoutOptions { min_width_percent: Some(1.0), ..LayoutOptions::default() });
    assert_eq!(frames(&tree), ["all=1003", "root=1003", "root;big=990"]);
    assert_eq!(tree.pruned_frames, 3);
    assert_eq!(tree.pruned_samples, "13");
    assert_eq!(tree.merged_frames, 5);
    assert_eq!(tree.names, ["root", "big"]);
    // In pixels: at 1180 px for 1003 samples, tiny (8 samples) is 9.4 px.
    let pixels = |px: f64| {
        let mut m = merger(MergeOptions::default());
        feed(&mut m, "root;big 990\nroot;tiny 5\nroot;tiny;deeper 3\nroot;small 5\n", 64);
        frames(&m.finish(&LayoutOptions { min_width_px: Some(px), frames_width: 1180.0, ..LayoutOptions::default() }))
    };
    assert!(!pixels(10.0).iter().any(|f| f.starts_with("root;tiny=")));
    assert!(pixels(9.0).iter().any(|f| f.starts_with("root;tiny=")));
}

#[test]
fn a_pruned_frame_keeps_its_place_among_its_siblings() {
    let mut m = merger(MergeOptions::default());
    feed(&mut m, "r;c 10\nr;b 1\nr;a 10\n", 64);
    let tree = m.finish(&LayoutOptions { min_width_percent: Some(5.0), ..LayoutOptions::default() });
    assert_eq!(frames(&tree), ["all=21", "r=21", "r;a=10", "r;c=10"]);
    assert_eq!(tree.offset, [0.0, 0.0, 0.0, 11.0]);
    assert_eq!(tree.depth, [0, 1, 2, 2]);
    assert_eq!(tree.max_depth, 2);
}

#[test]
fn exact_pruned_samples() {
    let mut m = merger(MergeOptions::default());
    feed(&mut m, "a 100\nb 0.25\nc 0.5\n", 64);
    let tree = m.finish(&LayoutOptions { min_width_percent: Some(1.0), ..LayoutOptions::default() });
    assert_eq!(tree.pruned_samples, "0.75");
    assert_eq!(tree.samples.total, "100.75");
}

#[test]
fn diff_sources_fill_the_two_columns_and_name_shares_count_recursion_once() {
    let mut m = Merger::new(MergeOptions { differential: Some(false), before_sources: true, ..MergeOptions::default() });
    m.begin_source(true);
    feed(&mut m, "main;f;f 30\nmain;g 10\n", 5);
    m.begin_source(false);
    feed(&mut m, "main;f 10\nmain;g 30\n", 5);
    let tree = m.finish(&LayoutOptions { name_shares: true, ..LayoutOptions::default() });
    assert_eq!(frames(&tree), ["all=40", "main=40", "main;f=10", "main;g=30"]);
    assert_eq!(tree.before.as_ref().unwrap().total, "40");
    let shares = tree.name_shares.unwrap();
    let share = |name: &str| {
        let id = shares.names.iter().position(|n| n == name).unwrap();
        (shares.before[id], shares.samples[id])
    };
    assert_eq!(share("f"), (75.0, 25.0));
    assert_eq!(share("g"), (25.0, 75.0));
    assert_eq!(share("main"), (100.0, 100.0));
    let own = |name: &str| {
        let id = shares.names.iter().position(|n| n == name).unwrap();
        (shares.before_self_units[id], shares.samples_self_units[id], shares.before_total_units[id], shares.samples_total_units[id])
    };
    // f;f: the inner f holds the 30 before-samples, the outer none; recursion counted once in totals.
    assert_eq!(own("f"), (30.0, 10.0, 30.0, 10.0));
    assert_eq!(own("main"), (0.0, 0.0, 40.0, 40.0));
}

#[test]
fn name_shares_without_a_before_column_give_self_and_total_units_of_the_whole_tree() {
    let mut m = merger(MergeOptions::default());
    m.push(b"main;f;g 6\nmain;f 3\nmain 1\nmain;g;f 2\n");
    // Pruned frames still count: the shares are over the merged tree, not the drawn one.
    let tree = m.finish(&LayoutOptions { name_shares: true, min_width_percent: Some(50.0), ..LayoutOptions::default() });
    let shares = tree.name_shares.unwrap();
    let row = |name: &str| {
        let id = shares.names.iter().position(|n| n == name).unwrap();
        (shares.samples_self_units[id], shares.samples_total_units[id], shares.before_total_units[id])
    };
    assert_eq!(row("main"), (1.0, 12.0, 0.0));
    assert_eq!(row("f"), (5.0, 11.0, 0.0));
    assert_eq!(row("g"), (6.0, 8.0, 0.0));
}

#[test]
fn names_are_decoded_only_when_kept_and_invalid_utf8_is_replaced() {
    let mut m = merger(MergeOptions::default());
    m.push(b"main;caf\xc3\xa9 2\nmain;bad\xff 1\n");
    let tree = m.finish(&LayoutOptions::default());
    assert_eq!(tree.names, ["main", "bad\u{fffd}", "café"]);
}
