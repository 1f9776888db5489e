// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Receiver of a pledged bill of lading (the financing escrow)
/// @notice The title registry's `pledge` moves a bill to an escrow and then calls this hook in the same
/// transaction, as ERC-721's `safeTransferFrom` calls `onERC721Received`: the escrow opens whatever the
/// pledge is for (a financing request) or reverts, and the whole pledge reverts with it.
interface IBillPledgeReceiver {
    /// @notice Called by the title registry after it made this contract holder and beneficiary of `tokenId`.
    /// @param pledgor the holder who pledged the bill
    /// @param tokenId the pledged bill
    /// @param data what the pledgor passed to `pledge` (for the financing escrow: an ABI-encoded request)
    /// @return the selector of this function, to accept the pledge
    function onBillPledged(address pledgor, uint256 tokenId, bytes calldata data) external returns (bytes4);
}
