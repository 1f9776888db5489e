// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IBillOfLadingRegistry} from "../ebl/IBillOfLadingRegistry.sol";
import {IBillPledgeReceiver} from "../ebl/IBillPledgeReceiver.sol";

/// @title A pledge receiver whose answer a test chooses
/// @notice For the title registry's own tests only (the financing escrow is the real receiver): it records
/// the pledge it was called with and accepts, answers with a wrong selector, or reverts, as set; and it
/// can hand a bill it holds on, as an escrow delivering at the end of a financing would.
contract TestPledgeReceiver is IBillPledgeReceiver {
    enum Answer {
        Accept,
        WrongSelector,
        Revert
    }

    IBillOfLadingRegistry public immutable registry;
    Answer public answer;
    address public lastPledgor;
    uint256 public lastTokenId;
    bytes public lastData;

    error PledgeNotWanted(uint256 tokenId);

    constructor(IBillOfLadingRegistry registry_) {
        registry = registry_;
    }

    function setAnswer(Answer answer_) external {
        answer = answer_;
    }

    /// @inheritdoc IBillPledgeReceiver
    function onBillPledged(address pledgor, uint256 tokenId, bytes calldata data) external returns (bytes4) {
        if (answer == Answer.Revert) revert PledgeNotWanted(tokenId);
        lastPledgor = pledgor;
        lastTokenId = tokenId;
        lastData = data;
        return answer == Answer.Accept ? IBillPledgeReceiver.onBillPledged.selector : bytes4(0xdeadbeef);
    }

    /// @notice Hands a held bill on as holder and beneficiary (what the escrow does on release).
    function deliver(uint256 tokenId, address to) external {
        registry.transferOwners(tokenId, to, to, bytes32(0));
    }
}
