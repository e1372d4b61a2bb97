//! No panic on any model: render is given clusters the checker would reject (extreme
//! priorities and router ids, odd names, interfaces, labels, prefixes, no control plane) and
//! must answer with a bundle or diagnostics, never a panic.

mod common;

use common::*;
use hac_model::*;
use proptest::prelude::*;

// One argument per generated input keeps the proptest strategy readable.
#[allow(clippy::too_many_arguments)]
fn mutate(
    c: &mut Cluster,
    prio: i64,
    router: i64,
    prefix: u8,
    text: &str,
    mask: u8,
    port: u16,
    which: u8,
) {
    match which % 8 {
        0 => c.nodes.iter_mut().for_each(|n| n.priority = Some(prio)),
        1 => c.control_plane.keepalived.router_id = router,
        2 => c.nodes.iter_mut().for_each(|n| n.prefix_len = Some(prefix)),
        3 => c.nodes[0].interface = hac_model::InterfaceName::parse(text),
        4 => {
            c.nodes[1].labels.insert(text.to_string(), text.to_string());
            c.nodes[1].zone = Some(text.to_string());
        }
        5 => c.network.node_mask_size = mask,
        6 => {
            c.control_plane.port = port;
            c.control_plane.api_server_port = port;
            c.control_plane.cert_sans = vec![text.to_string()];
            c.control_plane.endpoint = Some(text.to_string());
        }
        _ => c
            .nodes
            .iter_mut()
            .for_each(|n| n.roles.retain(|r| *r != Role::ControlPlane)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn render_never_panics(
        sample in 0usize..4,
        prio in prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>(), 0i64..300],
        router in any::<i64>(),
        prefix in any::<u8>(),
        text in "\\PC{0,20}",
        mask in any::<u8>(),
        port in any::<u16>(),
        which in any::<u8>(),
    ) {
        let mut c = match sample {
            0 => samples::stacked_3(),
            1 => samples::stacked_3_dedicated_lb(),
            2 => samples::external_etcd(),
            _ => samples::masters_run_etcd(),
        };
        mutate(&mut c, prio, router, prefix, &text, mask, port, which);
        let result = hac_render::render(&c, &fake_pki(&c, "CA"), &secrets(), "r", "svg");
        if let Err(errors) = result {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(hac_core::diagnostic::Diagnostic::is_error));
        }
    }
}
